/** A campaign an event names is not one of the tenant's. */
export class UnknownCampaignError extends Error {
  constructor(readonly field: string) {
    super('no such campaign');
    this.name = 'UnknownCampaignError';
  }
}
