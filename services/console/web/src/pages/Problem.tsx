/** An error from an API, said in words, announced to screen readers. */
export function Problem({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="problem">
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}
