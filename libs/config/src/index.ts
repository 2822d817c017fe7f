export { ConfigModule, HERALD_CONFIG, loadHeraldConfig, packageVersion } from './config.module';
export {
  ConfigError,
  loadConfig,
  loadDatabaseConfig,
  sizeInBytes,
  type Environment,
  type HeraldConfig,
  type QueueConcurrency,
  type Role,
} from './herald-config';
export { ENV_VARS, SECTION_TITLES, type EnvVar, type ConfigSection } from './env-spec';
export { renderConfigurationMarkdown, renderEnvExample } from './docs';
export { Secret } from './secret';
