/** The worker role as a composition root (apps/all) runs it: its module and the queues it consumes. */
export { consumedQueues, WorkerModule } from './worker.module';
