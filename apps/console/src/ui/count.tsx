/** One figure of a progress panel: a term and its value in the panel's <dl>. */
export function Count({ name, value, testId }: { name: string; value: string | number; testId?: string }) {
  return (
    <div>
      <dt>{name}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}
