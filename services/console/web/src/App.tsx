import { useState, type FormEvent } from 'react';
import { NavLink, Route, Routes } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { getKey, setKey } from './api.ts';
import { AccountsPage } from './pages/AccountsPage.tsx';
import { AccountPage } from './pages/AccountPage.tsx';
import { RunPage } from './pages/RunPage.tsx';
import { CompletenessPage } from './pages/CompletenessPage.tsx';
import { DeadLettersPage } from './pages/DeadLettersPage.tsx';
import { AmcPage } from './pages/AmcPage.tsx';
import { AmcExecutionPage } from './pages/AmcExecutionPage.tsx';
import { SuppliersPage } from './pages/SuppliersPage.tsx';
import { StreamPage } from './pages/StreamPage.tsx';

export function App() {
  const [key, setKeyState] = useState(getKey());
  const queries = useQueryClient();
  const signOut = () => {
    setKey(null);
    queries.clear();
    setKeyState(null);
  };
  if (!key)
    return (
      <SignIn
        onKey={(k) => {
          setKey(k);
          setKeyState(k);
        }}
      />
    );
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="bar">
        <span className="brand">adsync</span>
        <nav aria-label="Sections">
          <NavLink to="/">Accounts</NavLink>
          <NavLink to="/completeness">Completeness</NavLink>
          <NavLink to="/dead-letters">Dead letters</NavLink>
          <NavLink to="/amc">AMC</NavLink>
          <NavLink to="/suppliers">Suppliers</NavLink>
          <NavLink to="/streams">Marketing Stream</NavLink>
        </nav>
        <button type="button" className="quiet" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main">
        <Routes>
          <Route path="/" element={<AccountsPage />} />
          <Route path="/accounts/:id" element={<AccountPage />} />
          <Route path="/runs/:id" element={<RunPage />} />
          <Route path="/completeness" element={<CompletenessPage />} />
          <Route path="/dead-letters" element={<DeadLettersPage />} />
          <Route path="/amc" element={<AmcPage />} />
          <Route path="/amc/executions/:id" element={<AmcExecutionPage />} />
          <Route path="/suppliers" element={<SuppliersPage />} />
          <Route path="/streams" element={<StreamPage />} />
          <Route path="*" element={<p>There is no such page. Go back to the accounts.</p>} />
        </Routes>
      </main>
    </>
  );
}

function SignIn({ onKey }: { onKey: (key: string) => void }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) onKey(value.trim());
  };
  return (
    <main id="main" className="signin">
      <h1>adsync console</h1>
      <form onSubmit={submit}>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-describedby="api-key-help"
        />
        <p id="api-key-help" className="help">
          An admin key sees every account; an account's key sees that account only. The key stays in this tab.
        </p>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
