import { useQuery } from '@tanstack/react-query';
import { api, type Account, type Page } from '../api.ts';

/** The accounts this key sees, for a form that names one (an account key sees its own only). */
export function AccountSelect({ id, value, onChange }: { id: string; value: string; onChange: (v: string) => void }) {
  const accounts = useQuery({
    queryKey: ['accounts', 'all'],
    queryFn: () => api<{ accounts: Account[] } & Page>('entity-sync', '/v1/accounts?limit=1000'),
  });
  const list = accounts.data?.accounts ?? [];
  return (
    <>
      <label htmlFor={id}>Account</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} required>
        <option value="">Choose an account</option>
        {list.map((a) => (
          <option key={a.id} value={a.id}>
            {a.company_name}
          </option>
        ))}
      </select>
    </>
  );
}
