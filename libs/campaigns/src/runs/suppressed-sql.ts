/** Whether contact `c` (row `p` of an audience page) is suppressed, by id or by email; `$t` is the tenant. */
export function suppressedSql(t: number): string {
  return `EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = $${t}
                     AND (s.contact_id = p.id OR (c.email IS NOT NULL AND s.email = c.email)))`;
}
