import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { HeraldMetrics } from './metrics';

/** Sets `herald_build_info{version,commit}`: the dashboards' deploy annotations read its changes. */
@Injectable()
export class BuildInfo implements OnModuleInit {
  constructor(
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly metrics: HeraldMetrics,
  ) {}

  onModuleInit(): void {
    this.metrics.buildInfo.set({ version: this.config.app.version, commit: this.config.app.commit }, 1);
  }
}
