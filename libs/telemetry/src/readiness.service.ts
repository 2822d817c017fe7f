import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { HeraldMetrics } from './metrics';
import { serviceName } from './logging';

export interface ComponentStatus {
  status: 'up' | 'down';
  duration_ms: number;
  /** Why a component is down, in words safe to show (never a connection string). */
  error?: string;
  [detail: string]: unknown;
}

export interface ReadinessReport {
  status: 'up' | 'down';
  service: string;
  version: string;
  duration_ms: number;
  components: Record<string, ComponentStatus>;
}

export interface ReadinessCheck {
  /** Resolves with details when up; throws (or rejects) with a safe message when down. */
  check(): Promise<Record<string, unknown> | void>;
  /** A component that is down but not required is reported without failing readiness. */
  required: boolean;
}

/**
 * Components (database, redis, workers…) register a check; /ready runs them all in
 * parallel, each bounded by READY_TIMEOUT_MS, and reports 503 when a required one is down.
 */
@Injectable()
export class ReadinessService {
  private readonly checks = new Map<string, ReadinessCheck>();

  constructor(
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly metrics: HeraldMetrics,
  ) {}

  register(name: string, check: ReadinessCheck): void {
    if (this.checks.has(name)) throw new Error(`readiness component "${name}" registered twice`);
    this.checks.set(name, check);
  }

  async report(): Promise<ReadinessReport> {
    const started = performance.now();
    const entries = await Promise.all(
      [...this.checks].map(async ([name, c]) => [name, await this.run(name, c)] as const),
    );
    const components = Object.fromEntries(entries);
    const down = entries.some(
      ([name, status]) => status.status === 'down' && this.checks.get(name)?.required,
    );
    return {
      status: down ? 'down' : 'up',
      service: serviceName(this.config),
      version: this.config.app.version,
      duration_ms: Math.round(performance.now() - started),
      components,
    };
  }

  private async run(name: string, c: ReadinessCheck): Promise<ComponentStatus> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.config.telemetry.readyTimeoutMs} ms`)),
        this.config.telemetry.readyTimeoutMs,
      );
    });
    let status: ComponentStatus;
    try {
      const details = await Promise.race([c.check(), timeout]);
      status = { status: 'up', duration_ms: elapsed(started), ...(details ?? {}) };
    } catch (error) {
      status = { status: 'down', duration_ms: elapsed(started), error: safeMessage(error) };
    } finally {
      clearTimeout(timer);
    }
    this.metrics.componentUp.set({ component: name }, status.status === 'up' ? 1 : 0);
    this.metrics.componentCheckDuration.set({ component: name }, status.duration_ms / 1000);
    return status;
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/** Connection errors can echo hosts and user names; keep the message short and credential-free. */
function safeMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\b[a-z]+:\/\/\S+/gi, '[url]').slice(0, 200);
}
