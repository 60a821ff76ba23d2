namespace LLMux.Governance.Storage.Postgres;

/// <summary>
/// The PostgreSQL schema, as numbered steps (the same tables and columns as the SQLite store, with PostgreSQL's types:
/// <c>numeric</c> money, <c>timestamptz</c> times, <c>boolean</c> flags). All pending steps run in one transaction that
/// first takes a transaction-scoped advisory lock, so replicas starting at once apply each step exactly once: the
/// others wait on the lock and then find the steps recorded. Steps are never edited after release; a change is a new step.
/// </summary>
internal static class PostgresMigrations
{
    /// <summary>The advisory lock key all LLMux replicas take while migrating ("LLMuxMig" as a 64-bit number).</summary>
    public const long LockKey = 0x4C4C4D75784D6967;

    public static readonly (int Version, string Name, string Sql)[] Steps =
    [
        (1, "keys, teams, users, spend logs", """
            CREATE TABLE "LiteLLM_VerificationToken" (
                token text PRIMARY KEY,
                key_name text NOT NULL,
                key_alias text UNIQUE,
                spend numeric NOT NULL DEFAULT 0,
                max_budget numeric,
                soft_budget numeric,
                budget_duration text,
                budget_reset_at timestamptz,
                rpm_limit bigint,
                tpm_limit bigint,
                max_parallel_requests bigint,
                expires timestamptz,
                models text NOT NULL DEFAULT '[]',
                aliases text NOT NULL DEFAULT '{}',
                metadata text NOT NULL DEFAULT '{}',
                allowed_routes text NOT NULL DEFAULT '[]',
                team_id text,
                user_id text,
                blocked boolean NOT NULL DEFAULT false,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                created_by text,
                updated_by text
            );
            CREATE INDEX "ix_token_team" ON "LiteLLM_VerificationToken"(team_id);
            CREATE INDEX "ix_token_user" ON "LiteLLM_VerificationToken"(user_id);
            CREATE TABLE "LiteLLM_TeamTable" (
                team_id text PRIMARY KEY,
                team_alias text,
                spend numeric NOT NULL DEFAULT 0,
                max_budget numeric,
                soft_budget numeric,
                budget_duration text,
                budget_reset_at timestamptz,
                rpm_limit bigint,
                tpm_limit bigint,
                max_parallel_requests bigint,
                models text NOT NULL DEFAULT '[]',
                metadata text NOT NULL DEFAULT '{}',
                members_with_roles text NOT NULL DEFAULT '[]',
                blocked boolean NOT NULL DEFAULT false,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL
            );
            CREATE TABLE "LiteLLM_UserTable" (
                user_id text PRIMARY KEY,
                user_email text,
                user_alias text,
                user_role text NOT NULL DEFAULT 'internal_user',
                teams text NOT NULL DEFAULT '[]',
                models text NOT NULL DEFAULT '[]',
                spend numeric NOT NULL DEFAULT 0,
                max_budget numeric,
                budget_duration text,
                budget_reset_at timestamptz,
                rpm_limit bigint,
                tpm_limit bigint,
                metadata text NOT NULL DEFAULT '{}',
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL
            );
            CREATE TABLE "LiteLLM_SpendLogs" (
                request_id text PRIMARY KEY,
                call_type text NOT NULL,
                api_key text NOT NULL,
                spend numeric NOT NULL,
                total_tokens bigint NOT NULL,
                prompt_tokens bigint NOT NULL,
                completion_tokens bigint NOT NULL,
                "startTime" timestamptz NOT NULL,
                "endTime" timestamptz NOT NULL,
                model text,
                model_group text,
                custom_llm_provider text,
                "user" text,
                team_id text,
                end_user text,
                key_alias text,
                status text NOT NULL
            );
            CREATE INDEX "ix_spend_start" ON "LiteLLM_SpendLogs"("startTime");
            CREATE INDEX "ix_spend_key" ON "LiteLLM_SpendLogs"(api_key);
            CREATE INDEX "ix_spend_end_user" ON "LiteLLM_SpendLogs"(end_user);
            """),
        (2, "customers (end users)", """
            CREATE TABLE "LiteLLM_EndUserTable" (
                user_id text PRIMARY KEY,
                alias text,
                spend numeric NOT NULL DEFAULT 0,
                max_budget numeric,
                budget_duration text,
                budget_reset_at timestamptz,
                blocked boolean NOT NULL DEFAULT false,
                allowed_model_region text,
                default_model text,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL
            );
            """),
        // LiteLLM's column is text ('True'/'False'); rows written before this step read '' (not known).
        (3, "spend logs: cache_hit", """
            ALTER TABLE "LiteLLM_SpendLogs" ADD COLUMN IF NOT EXISTS cache_hit text NOT NULL DEFAULT '';
            """),
        // The Batches API's batches (LLMux's own table: LiteLLM keeps no batch state of its own).
        (4, "batches", """
            CREATE TABLE "llmux_batches" (
                id text PRIMARY KEY,
                owner text NOT NULL,
                team_id text,
                created_at bigint NOT NULL,
                status text NOT NULL,
                state text NOT NULL,
                cancel_requested_at bigint,
                lease_holder text,
                lease_until bigint NOT NULL DEFAULT 0
            );
            CREATE INDEX "ix_batches_owner" ON "llmux_batches"(owner);
            CREATE INDEX "ix_batches_team" ON "llmux_batches"(team_id);
            CREATE INDEX "ix_batches_status" ON "llmux_batches"(status);
            """),
        // LiteLLM's String[] @default([]): the cache controls a key may set; [] allows every one.
        (5, "keys: allowed_cache_controls", """
            ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN IF NOT EXISTS allowed_cache_controls text NOT NULL DEFAULT '[]';
            """),
        // LiteLLM's column: model name → {"budget_limit": USD, "time_period": "1d"}.
        (6, "keys: model_max_budget", """
            ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN IF NOT EXISTS model_max_budget text NOT NULL DEFAULT '{}';
            """),
        // LiteLLM's team column: a name the team's keys may send → the model it stands for; and the team's and the
        // user's per-model budgets, the key column's shape.
        (7, "teams: model_aliases, model_max_budget; users: model_max_budget", """
            ALTER TABLE "LiteLLM_TeamTable" ADD COLUMN IF NOT EXISTS model_aliases text NOT NULL DEFAULT '{}';
            ALTER TABLE "LiteLLM_TeamTable" ADD COLUMN IF NOT EXISTS model_max_budget text NOT NULL DEFAULT '{}';
            ALTER TABLE "LiteLLM_UserTable" ADD COLUMN IF NOT EXISTS model_max_budget text NOT NULL DEFAULT '{}';
            """),
        // LiteLLM's table of regenerated keys in their grace period (hashes only).
        (8, "deprecated keys", """
            CREATE TABLE IF NOT EXISTS "LiteLLM_DeprecatedVerificationToken" (
                token text PRIMARY KEY,
                active_token_id text NOT NULL,
                revoke_at timestamptz NOT NULL,
                created_at timestamptz NOT NULL
            );
            CREATE INDEX IF NOT EXISTS "ix_deprecated_active" ON "LiteLLM_DeprecatedVerificationToken"(active_token_id);
            CREATE INDEX IF NOT EXISTS "ix_deprecated_revoke" ON "LiteLLM_DeprecatedVerificationToken"(revoke_at);
            """),
        // LiteLLM's budget table, and the links to it: an end user's limits live only in its budget; a key's budget
        // fills the limits the key leaves null. A key's per-model rpm/tpm (LiteLLM keeps them in the key's metadata).
        (9, "budgets; customers and keys: budget_id; keys: model_rpm_limit, model_tpm_limit", """
            CREATE TABLE IF NOT EXISTS "LiteLLM_BudgetTable" (
                budget_id text PRIMARY KEY,
                max_budget numeric,
                soft_budget numeric,
                max_parallel_requests bigint,
                tpm_limit bigint,
                rpm_limit bigint,
                model_max_budget text NOT NULL DEFAULT '{}',
                budget_duration text,
                budget_reset_at timestamptz,
                created_at timestamptz NOT NULL,
                created_by text NOT NULL,
                updated_at timestamptz NOT NULL,
                updated_by text NOT NULL
            );
            ALTER TABLE "LiteLLM_EndUserTable" ADD COLUMN IF NOT EXISTS budget_id text;
            ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN IF NOT EXISTS budget_id text;
            ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN IF NOT EXISTS model_rpm_limit text NOT NULL DEFAULT '{}';
            ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN IF NOT EXISTS model_tpm_limit text NOT NULL DEFAULT '{}';
            CREATE INDEX IF NOT EXISTS "ix_end_user_budget" ON "LiteLLM_EndUserTable"(budget_id);
            CREATE INDEX IF NOT EXISTS "ix_token_budget" ON "LiteLLM_VerificationToken"(budget_id);
            """),
        // A team's per-model rpm/tpm over all its keys (LiteLLM keeps them in the team's metadata).
        (10, "teams: model_rpm_limit, model_tpm_limit", """
            ALTER TABLE "LiteLLM_TeamTable" ADD COLUMN IF NOT EXISTS model_rpm_limit text NOT NULL DEFAULT '{}';
            ALTER TABLE "LiteLLM_TeamTable" ADD COLUMN IF NOT EXISTS model_tpm_limit text NOT NULL DEFAULT '{}';
            """),
        // Most calls name no end user: their rows stay out of the end-user index (one B-tree fewer per spend row).
        (11, "spend logs: end-user index without the rows that name none", """
            DROP INDEX IF EXISTS "ix_spend_end_user";
            CREATE INDEX IF NOT EXISTS "ix_spend_end_user" ON "LiteLLM_SpendLogs"(end_user) WHERE end_user IS NOT NULL;
            """),
        // A key's or end user's budget_id names an existing budget row: the database holds it (LiteLLM's schema has
        // the same relation), so a budget deleted while an admin links to it cannot leave a dangling link. NOT VALID:
        // rows written before are not re-checked.
        (12, "keys and end users: budget_id references the budget table", """
            DO $$
            BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'fk_end_user_budget' AND conrelid = '"LiteLLM_EndUserTable"'::regclass) THEN
                ALTER TABLE "LiteLLM_EndUserTable" ADD CONSTRAINT fk_end_user_budget FOREIGN KEY (budget_id) REFERENCES "LiteLLM_BudgetTable"(budget_id) NOT VALID;
              END IF;
              IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'fk_token_budget' AND conrelid = '"LiteLLM_VerificationToken"'::regclass) THEN
                ALTER TABLE "LiteLLM_VerificationToken" ADD CONSTRAINT fk_token_budget FOREIGN KEY (budget_id) REFERENCES "LiteLLM_BudgetTable"(budget_id) NOT VALID;
              END IF;
            END $$;
            """),
        // Gateway-wide settings the admin API changes at run time (the master key's rotation).
        (13, "settings", """
            CREATE TABLE IF NOT EXISTS "llmux_settings" (
                name text PRIMARY KEY,
                value text NOT NULL,
                updated_at timestamptz NOT NULL
            );
            """),
        // The marks of spend batches whose rows are not logged (disable_spend_logs), kept a day: a batch written again
        // after a lost commit answer adds its spend once.
        (14, "spend batch marks", """
            CREATE TABLE IF NOT EXISTS "llmux_spend_batches" (
                marker text PRIMARY KEY,
                written_at timestamptz NOT NULL
            );
            CREATE INDEX IF NOT EXISTS "ix_spend_batches_at" ON "llmux_spend_batches"(written_at);
            """),
    ];
}
