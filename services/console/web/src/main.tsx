import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { HashRouter } from 'react-router';
import { App } from './App.tsx';
import './styles.css';

const queries = new QueryClient({
  defaultOptions: {
    // A refused key or a missing record does not get better by asking again.
    queries: { retry: (n, err) => n < 2 && !(err instanceof Error && 'status' in err && Number(err.status) < 500) },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <HashRouter>
        <App />
      </HashRouter>
    </QueryClientProvider>
  </StrictMode>,
);
