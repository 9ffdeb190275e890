/**
 * Closes a test's sandbox, then drops its databases whatever the close said: a sandbox that
 * answered off Amazon's models fails the test from close(), and the databases go all the same.
 */
export async function closeThenDrop(
  sandbox: { close(): Promise<void> } | undefined,
  ...databases: ({ drop(): Promise<void> } | undefined)[]
): Promise<void> {
  try {
    await sandbox?.close();
  } finally {
    for (const db of databases) await db?.drop();
  }
}
