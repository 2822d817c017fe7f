export { ConfigModule, HERALD_CONFIG, loadHeraldConfig, packageVersion } from './config.module';
export {
  ConfigError,
  loadConfig,
  loadDatabaseConfig,
  loadTracingConfig,
  sizeInBytes,
  type Environment,
  type HeraldConfig,
  type QueueConcurrency,
  type Role,
  type TracingConfig,
} from './herald-config';
export { ENV_VARS, SECTION_TITLES, type EnvVar, type ConfigSection } from './env-spec';
export { renderConfigurationMarkdown, renderEnvExample } from './docs';
export { ByteSealer, SealError } from './byte-sealer';
export {
  decodeKey,
  KEY_ID_PATTERN,
  KEY_PURPOSES,
  KeyRing,
  KeyRingError,
  UNNAMED_KEY_ID,
  type KeyPurpose,
  type PepperRing,
  type RingKey,
} from './key-ring';
export { Secret } from './secret';
export { roleNodeFlags, roleNodeOptions, type HeraldRole } from './node-flags';
export { parseHostOverrides, type HostOverride } from './host-overrides';
