export {
  CircuitBreaker,
  formatCircuitKey,
  parseCircuitKey,
  type CircuitBreakerOptions,
  type CircuitKey,
  type CircuitSnapshot,
} from './circuit-breaker';
export {
  acquireStep,
  DEFAULT_CIRCUIT_SETTINGS,
  failureStep,
  successStep,
  type AcquireResult,
  type CircuitRecord,
  type CircuitSettings,
  type CircuitStateName,
} from './circuit-state';
export { ResilienceModule } from './resilience.module';
export { backoffDelay, canRetry, DEFAULT_RETRY_POLICY, retryDelay, type RetryPolicy } from './retry-policy';
