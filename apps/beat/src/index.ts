/** The beat role as a composition root (apps/all) runs it. */
export { BeatModule } from './beat.module';
