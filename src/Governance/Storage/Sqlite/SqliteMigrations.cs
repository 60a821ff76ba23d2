namespace LLMux.Governance.Storage.Sqlite;

/// <summary>
/// The schema, as numbered steps. Each runs once, in a <c>BEGIN IMMEDIATE</c> transaction that first re-reads the
/// applied versions, so two processes starting on the same file at once apply each step exactly once. Steps are
/// never edited after release; a change is a new step. Table and column names are LiteLLM's, so that admins'
/// SQL habits carry over.
/// </summary>
internal static class SqliteMigrations
{
    public static readonly (int Version, string Name, string Sql)[] Steps =
    [
        (1, "keys, teams, users, spend logs", """
            CREATE TABLE "LiteLLM_VerificationToken" (
                token TEXT PRIMARY KEY,
                key_name TEXT NOT NULL,
                key_alias TEXT UNIQUE,
                spend REAL NOT NULL DEFAULT 0,
                max_budget REAL,
                soft_budget REAL,
                budget_duration TEXT,
                budget_reset_at TEXT,
                rpm_limit INTEGER,
                tpm_limit INTEGER,
                max_parallel_requests INTEGER,
                expires TEXT,
                models TEXT NOT NULL DEFAULT '[]',
                aliases TEXT NOT NULL DEFAULT '{}',
                metadata TEXT NOT NULL DEFAULT '{}',
                allowed_routes TEXT NOT NULL DEFAULT '[]',
                team_id TEXT,
                user_id TEXT,
                blocked INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                created_by TEXT,
                updated_by TEXT
            );
            CREATE INDEX "ix_token_team" ON "LiteLLM_VerificationToken"(team_id);
            CREATE INDEX "ix_token_user" ON "LiteLLM_VerificationToken"(user_id);
            CREATE TABLE "LiteLLM_TeamTable" (
                team_id TEXT PRIMARY KEY,
                team_alias TEXT,
                spend REAL NOT NULL DEFAULT 0,
                max_budget REAL,
                soft_budget REAL,
                budget_duration TEXT,
                budget_reset_at TEXT,
                rpm_limit INTEGER,
                tpm_limit INTEGER,
                max_parallel_requests INTEGER,
                models TEXT NOT NULL DEFAULT '[]',
                metadata TEXT NOT NULL DEFAULT '{}',
                members_with_roles TEXT NOT NULL DEFAULT '[]',
                blocked INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            CREATE TABLE "LiteLLM_UserTable" (
                user_id TEXT PRIMARY KEY,
                user_email TEXT,
                user_alias TEXT,
                user_role TEXT NOT NULL DEFAULT 'internal_user',
                teams TEXT NOT NULL DEFAULT '[]',
                models TEXT NOT NULL DEFAULT '[]',
                spend REAL NOT NULL DEFAULT 0,
                max_budget REAL,
                budget_duration TEXT,
                budget_reset_at TEXT,
                rpm_limit INTEGER,
                tpm_limit INTEGER,
                metadata TEXT NOT NULL DEFAULT '{}',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            CREATE TABLE "LiteLLM_SpendLogs" (
                request_id TEXT PRIMARY KEY,
                call_type TEXT NOT NULL,
                api_key TEXT NOT NULL,
                spend REAL NOT NULL,
                total_tokens INTEGER NOT NULL,
                prompt_tokens INTEGER NOT NULL,
                completion_tokens INTEGER NOT NULL,
                "startTime" TEXT NOT NULL,
                "endTime" TEXT NOT NULL,
                model TEXT,
                model_group TEXT,
                custom_llm_provider TEXT,
                "user" TEXT,
                team_id TEXT,
                end_user TEXT,
                key_alias TEXT,
                status TEXT NOT NULL
            );
            CREATE INDEX "ix_spend_start" ON "LiteLLM_SpendLogs"("startTime");
            CREATE INDEX "ix_spend_key" ON "LiteLLM_SpendLogs"(api_key);
            CREATE INDEX "ix_spend_end_user" ON "LiteLLM_SpendLogs"(end_user);
            """),
        (2, "customers (end users)", """
            CREATE TABLE "LiteLLM_EndUserTable" (
                user_id TEXT PRIMARY KEY,
                alias TEXT,
                spend REAL NOT NULL DEFAULT 0,
                max_budget REAL,
                budget_duration TEXT,
                budget_reset_at TEXT,
                blocked INTEGER NOT NULL DEFAULT 0,
                allowed_model_region TEXT,
                default_model TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            """),
        // LiteLLM's column is text ('True'/'False'); rows written before this step read '' (not known).
        (3, "spend logs: cache_hit", """
            ALTER TABLE "LiteLLM_SpendLogs" ADD COLUMN cache_hit TEXT NOT NULL DEFAULT '';
            """),
        // The Batches API's batches (LLMux's own table: LiteLLM keeps no batch state of its own).
        (4, "batches", """
            CREATE TABLE "llmux_batches" (
                id TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                team_id TEXT,
                created_at INTEGER NOT NULL,
                status TEXT NOT NULL,
                state TEXT NOT NULL,
                cancel_requested_at INTEGER,
                lease_holder TEXT,
                lease_until INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX "ix_batches_owner" ON "llmux_batches"(owner);
            CREATE INDEX "ix_batches_team" ON "llmux_batches"(team_id);
            CREATE INDEX "ix_batches_status" ON "llmux_batches"(status);
            """),
        // LiteLLM's String[] @default([]): the cache controls a key may set; [] allows every one.
        (5, "keys: allowed_cache_controls", """
            ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN allowed_cache_controls TEXT NOT NULL DEFAULT '[]';
            """),
        // LiteLLM's column: model name → {"budget_limit": USD, "time_period": "1d"}.
        (6, "keys: model_max_budget", """
            ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN model_max_budget TEXT NOT NULL DEFAULT '{}';
            """),
        // LiteLLM's team column: a name the team's keys may send → the model it stands for; and the team's and the
        // user's per-model budgets, the key column's shape.
        (7, "teams: model_aliases, model_max_budget; users: model_max_budget", """
            ALTER TABLE "LiteLLM_TeamTable" ADD COLUMN model_aliases TEXT NOT NULL DEFAULT '{}';
            ALTER TABLE "LiteLLM_TeamTable" ADD COLUMN model_max_budget TEXT NOT NULL DEFAULT '{}';
            ALTER TABLE "LiteLLM_UserTable" ADD COLUMN model_max_budget TEXT NOT NULL DEFAULT '{}';
            """),
        // LiteLLM's table of regenerated keys in their grace period (hashes only).
        (8, "deprecated keys", """
            CREATE TABLE "LiteLLM_DeprecatedVerificationToken" (
                token TEXT PRIMARY KEY,
                active_token_id TEXT NOT NULL,
                revoke_at TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE INDEX "ix_deprecated_active" ON "LiteLLM_DeprecatedVerificationToken"(active_token_id);
            CREATE INDEX "ix_deprecated_revoke" ON "LiteLLM_DeprecatedVerificationToken"(revoke_at);
            """),
        // LiteLLM's budget table, and the links to it: an end user's limits live only in its budget; a key's budget
        // fills the limits the key leaves null. A key's per-model rpm/tpm (LiteLLM keeps them in the key's metadata).
        (9, "budgets; customers and keys: budget_id; keys: model_rpm_limit, model_tpm_limit", """
            CREATE TABLE "LiteLLM_BudgetTable" (
                budget_id TEXT PRIMARY KEY,
                max_budget REAL,
                soft_budget REAL,
                max_parallel_requests INTEGER,
                tpm_limit INTEGER,
                rpm_limit INTEGER,
                model_max_budget TEXT NOT NULL DEFAULT '{}',
                budget_duration TEXT,
                budget_reset_at TEXT,
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                updated_by TEXT NOT NULL
            );
            ALTER TABLE "LiteLLM_EndUserTable" ADD COLUMN budget_id TEXT;
            ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN budget_id TEXT;
            ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN model_rpm_limit TEXT NOT NULL DEFAULT '{}';
            ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN model_tpm_limit TEXT NOT NULL DEFAULT '{}';
            CREATE INDEX "ix_end_user_budget" ON "LiteLLM_EndUserTable"(budget_id);
            CREATE INDEX "ix_token_budget" ON "LiteLLM_VerificationToken"(budget_id);
            """),
        // A team's per-model rpm/tpm over all its keys (LiteLLM keeps them in the team's metadata).
        (10, "teams: model_rpm_limit, model_tpm_limit", """
            ALTER TABLE "LiteLLM_TeamTable" ADD COLUMN model_rpm_limit TEXT NOT NULL DEFAULT '{}';
            ALTER TABLE "LiteLLM_TeamTable" ADD COLUMN model_tpm_limit TEXT NOT NULL DEFAULT '{}';
            """),
        // Most calls name no end user: their rows stay out of the end-user index (one B-tree fewer per spend row).
        (11, "spend logs: end-user index without the rows that name none", """
            DROP INDEX IF EXISTS "ix_spend_end_user";
            CREATE INDEX "ix_spend_end_user" ON "LiteLLM_SpendLogs"(end_user) WHERE end_user IS NOT NULL;
            """),
        // Gateway-wide settings the admin API changes at run time (the master key's rotation). PostgreSQL's step 12 (the
        // budget_id foreign keys) has no SQLite step: SQLite checks those links in each write's transaction (Linked).
        (12, "settings", """
            CREATE TABLE "llmux_settings" (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            """),
        // The marks of spend batches whose rows are not logged (disable_spend_logs), kept a day: a batch written again
        // adds its spend once.
        (13, "spend batch marks", """
            CREATE TABLE "llmux_spend_batches" (
                marker TEXT PRIMARY KEY,
                written_at TEXT NOT NULL
            );
            CREATE INDEX "ix_spend_batches_at" ON "llmux_spend_batches"(written_at);
            """),
    ];
}
