import { Global, Module, type DynamicModule } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Environment, type HeraldConfig, type Role } from './herald-config';

/** Injection token for the validated HeraldConfig. */
export const HERALD_CONFIG = Symbol('HERALD_CONFIG');

let cachedVersion: string | undefined;
/** The package version, read once from the nearest package.json above the compiled file. */
export function packageVersion(): string {
  if (cachedVersion) return cachedVersion;
  for (const up of ['../../..', '../../../..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'herald' && pkg.version) return (cachedVersion = pkg.version);
    } catch {
      // try the next level up
    }
  }
  return (cachedVersion = '0.0.0');
}

// Global on purpose: the one value every module reads, validated once by the root that loads it.
@Global()
@Module({})
export class ConfigModule {
  /**
   * Validates the environment once. `role` pins the process role (the entry point knows it);
   * `overrides` lets tests pass variables without touching process.env.
   */
  static forRoot(options: { role?: Role; env?: Environment; config?: HeraldConfig } = {}): DynamicModule {
    const config = options.config ?? loadHeraldConfig(options);
    return {
      module: ConfigModule,
      providers: [{ provide: HERALD_CONFIG, useValue: config }],
      exports: [HERALD_CONFIG],
    };
  }
}

export function loadHeraldConfig(options: { role?: Role; env?: Environment } = {}): HeraldConfig {
  return loadConfig(options.env ?? process.env, { role: options.role, version: packageVersion() });
}
