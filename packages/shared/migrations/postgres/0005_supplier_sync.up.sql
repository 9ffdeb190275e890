-- Suppliers per tenant (account), with their API credentials sealed at rest.
create table suppliers (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references accounts(id) on delete cascade,
  kind text not null check (kind in ('bigbuy', 'aliexpress')),
  name text not null,
  credentials_sealed text not null,
  active boolean not null default true,
  created_at timestamptz not null default now()
);

-- The job queue. Kafka's job.created wakes workers; this table is the truth they claim from
-- (highest priority first), with a lease so a crashed worker's job is picked up again.
create table import_jobs (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references accounts(id) on delete cascade,
  supplier_id uuid not null references suppliers(id) on delete cascade,
  job_type text not null check (job_type in ('supplier_api', 'inventory_update', 'price_update', 'order_sync')),
  status text not null default 'pending' check (status in ('pending', 'running', 'completed', 'failed')),
  priority integer not null default 0,
  trigger text not null default 'manual',
  attempt integer not null default 0,
  max_attempts integer not null default 5,
  run_after timestamptz not null default now(),
  lease_until timestamptz,
  worker_id text,
  counts jsonb not null default '{}',
  error text,
  errors jsonb not null default '[]',
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);
create index import_jobs_due on import_jobs(priority desc, created_at) where status = 'pending';
create index import_jobs_running on import_jobs(lease_until) where status = 'running';

create table imported_products (
  supplier_id uuid not null references suppliers(id) on delete cascade,
  supplier_product_id text not null,
  account_id uuid not null,
  sku text,
  name text,
  currency text not null default 'EUR',
  wholesale_price_micros bigint,
  retail_price_micros bigint,
  stock integer,
  ai_score numeric(5, 2),
  ai_score_at timestamptz,
  price_updated_at timestamptz,
  stock_updated_at timestamptz,
  last_synced_at timestamptz not null default now(),
  primary key (supplier_id, supplier_product_id)
);

create table orders (
  supplier_id uuid not null references suppliers(id) on delete cascade,
  supplier_order_id text not null,
  account_id uuid not null,
  status text not null,
  status_changed_at timestamptz not null default now(),
  synced_at timestamptz not null default now(),
  primary key (supplier_id, supplier_order_id)
);

-- Marketplaces a tenant sells on, which supplier product each listing is, and the updates owed to them.
create table marketplace_integrations (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references accounts(id) on delete cascade,
  marketplace text not null,
  endpoint_url text not null,
  active boolean not null default true
);
create table marketplace_listings (
  integration_id uuid not null references marketplace_integrations(id) on delete cascade,
  listing_id text not null,
  supplier_id uuid not null,
  supplier_product_id text not null,
  primary key (integration_id, listing_id)
);
create index marketplace_listings_product on marketplace_listings(supplier_id, supplier_product_id);
create table marketplace_outbound (
  id bigserial primary key,
  integration_id uuid not null references marketplace_integrations(id) on delete cascade,
  listing_id text not null,
  kind text not null check (kind in ('stock', 'price')),
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
create index marketplace_outbound_due on marketplace_outbound(next_attempt_at) where status = 'pending';

create table webhooks (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references accounts(id) on delete cascade,
  url text not null,
  secret_sealed text not null,
  active boolean not null default true,
  created_at timestamptz not null default now()
);
create table webhook_deliveries (
  id bigserial primary key,
  webhook_id uuid not null references webhooks(id) on delete cascade,
  job_id uuid not null,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  delivered_at timestamptz,
  unique (webhook_id, job_id)
);

create table sync_logs (
  id bigserial primary key,
  account_id uuid,
  job_id uuid,
  level text not null,
  message text not null,
  created_at timestamptz not null default now()
);
create index sync_logs_created on sync_logs(created_at);
