/**
 * The api role as a composition root (apps/all) runs it next to others: its module and the
 * public-port set-up to apply to the Nest app. Nothing else of this app is public.
 */
export { ApiModule } from './api.module';
export { configureHttp } from './http/configure-http';
