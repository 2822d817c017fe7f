/** Revoking this key would leave the tenant with no admin key (and no way to make another). */
export class LastAdminKeyError extends Error {
  constructor() {
    super('This is the tenant’s last active admin key: create another admin key before revoking it.');
    this.name = 'LastAdminKeyError';
  }
}
