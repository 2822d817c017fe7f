import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import type { LinkSubject } from '@herald/deliveries';
import { EngagementRecorder } from '@herald/engagement';
import { CLOCK, type Clock } from '@herald/time';
import type { DataSource } from 'typeorm';
import { MailLinksRepository } from './mail-links.repository';
import { classifyRequest } from './prefetchers';

export const TRACKING_SOURCE = 'tracking';

export interface TrackedRequest {
  method: string;
  userAgent: string | undefined;
}

export type TrackedEvent = { kind: 'opened' } | { kind: 'clicked'; linkIndex: number; url: string };

/**
 * Records an open or a click of a verified link through EngagementRecorder: once per delivery,
 * kind, link, person-or-machine and minute, so a burst of fetches (a client loading the pixel
 * twice, a double click) is one event and a machine's fetch never hides a person's. Machines
 * (prefetchers.ts) are recorded flagged, never as people. A link whose delivery is gone records
 * nothing (its redirect still works: the URL was signed into it).
 */
@Injectable()
export class TrackingService {
  private readonly windowSeconds: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly deliveries: MailLinksRepository,
    private readonly recorder: EngagementRecorder,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(HERALD_CONFIG) config: HeraldConfig,
  ) {
    this.windowSeconds = config.delivery.trackingMachineWindowSeconds;
  }

  async record(subject: LinkSubject, event: TrackedEvent, request: TrackedRequest): Promise<void> {
    const delivery = await this.deliveries.find(subject);
    if (!delivery) return;
    const now = this.clock.nowMs();
    const verdict = classifyRequest({
      method: request.method,
      userAgent: request.userAgent,
      secondsSinceSend: delivery.sentAt ? (now - delivery.sentAt.getTime()) / 1000 : null,
      windowSeconds: this.windowSeconds,
    });
    const minute = Math.floor(now / 60_000);
    const link = event.kind === 'clicked' ? `:${event.linkIndex}` : '';
    await this.dataSource.transaction('READ COMMITTED', (manager) =>
      this.recorder.record(manager, {
        tenantId: subject.tenantId,
        kind: event.kind,
        source: TRACKING_SOURCE,
        sourceEventId: `${subject.deliveryId}:${event.kind}${link}:${verdict.machine ? 'machine' : 'person'}:${minute}`,
        occurredAt: new Date(now),
        deliveryId: subject.deliveryId,
        machine: verdict.machine,
        url: event.kind === 'clicked' ? event.url : null,
        details: {
          ...(event.kind === 'clicked' ? { link_index: event.linkIndex } : {}),
          ...(verdict.reason ? { machine_reason: verdict.reason } : {}),
          user_agent: (request.userAgent ?? '').slice(0, 300),
        },
      }),
    );
  }
}
