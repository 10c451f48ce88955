"""The first schema: chats and turns, traces, the library's rows, the keyword index (as Crew made it before alembic).

Every statement is idempotent (IF NOT EXISTS, OR REPLACE): a database that an earlier Crew began (its
`crew_schema` rows name only some stores) is completed by running this revision; one that has them all
is stamped instead (`crew.storage.postgres.ensure_schema`).

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CHATS = (
    "CREATE TABLE IF NOT EXISTS chats (chat_id text PRIMARY KEY, workspace text NOT NULL, title text NOT NULL,"
    " created double precision NOT NULL, updated double precision NOT NULL,"
    " review_plan boolean NOT NULL DEFAULT false)",
    "CREATE INDEX IF NOT EXISTS chats_ws ON chats (workspace, updated)",
    "CREATE TABLE IF NOT EXISTS chat_turns (turn_id text PRIMARY KEY, chat_id text NOT NULL,"
    " workspace text NOT NULL, kind text NOT NULL DEFAULT 'turn', goal text NOT NULL,"
    " status text NOT NULL DEFAULT 'running', answer text NOT NULL DEFAULT '',"
    # JSON kept as text, as on SQLite: written and read whole, never queried inside.
    " citations text NOT NULL DEFAULT '[]', events text NOT NULL DEFAULT '[]',"
    " started double precision NOT NULL, ended double precision, extra text NOT NULL DEFAULT '{}',"
    " owner text NOT NULL DEFAULT '', heartbeat double precision)",
    "CREATE INDEX IF NOT EXISTS chat_turns_chat ON chat_turns (workspace, chat_id, started)",
)

TRACES = (
    "CREATE TABLE IF NOT EXISTS traces (turn_id text PRIMARY KEY, workspace text NOT NULL, thread_id text NOT NULL,"
    " goal text NOT NULL, started double precision NOT NULL, ended double precision,"
    " status text NOT NULL DEFAULT 'running', limit_hit text, error text,"
    " tokens_in bigint NOT NULL DEFAULT 0, tokens_out bigint NOT NULL DEFAULT 0,"
    " cost double precision NOT NULL DEFAULT 0, model text NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS traces_ws ON traces (workspace, started)",
    "CREATE INDEX IF NOT EXISTS traces_thread ON traces (workspace, thread_id)",
    # "end" is a reserved word in Postgres: quoted, so the column keeps the name callers read.
    'CREATE TABLE IF NOT EXISTS spans (span_id text PRIMARY KEY, turn_id text NOT NULL, parent_id text,'
    ' workspace text NOT NULL, kind text NOT NULL, agent text NOT NULL, name text NOT NULL,'
    ' start double precision NOT NULL, "end" double precision,'
    ' tokens_in bigint NOT NULL DEFAULT 0, tokens_out bigint NOT NULL DEFAULT 0,'
    " cost double precision NOT NULL DEFAULT 0, status text NOT NULL DEFAULT 'running',"
    " error text NOT NULL DEFAULT '', attrs text NOT NULL DEFAULT '{}')",
    "CREATE INDEX IF NOT EXISTS spans_turn ON spans (workspace, turn_id)",
)

DOCUMENTS = (
    "CREATE TABLE IF NOT EXISTS documents (workspace text NOT NULL, doc_id text NOT NULL, name text NOT NULL,"
    " format text NOT NULL DEFAULT '', size bigint NOT NULL DEFAULT 0, content_hash text NOT NULL,"
    ' pages integer NOT NULL DEFAULT 0, "rows" integer NOT NULL DEFAULT 0, chunks integer NOT NULL DEFAULT 0,'
    " status text NOT NULL, uploaded_at double precision NOT NULL, heartbeat double precision NOT NULL,"
    " owner text NOT NULL DEFAULT '', seconds double precision NOT NULL DEFAULT 0,"
    " PRIMARY KEY (workspace, doc_id), UNIQUE (workspace, content_hash))",
)

# One body for the three statement triggers that keep BM25's figures: `{rows}` gives (collection, sign, length,
# tsv) for every row the statement added (+1) or removed (-1); an update is its new rows less its old ones.
_STATS_FUNCTION = (
    "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " INSERT INTO crew_keyword_stats (collection, chunks, length)"
    " SELECT collection, sum(sign), sum(sign * length) FROM ({rows}) AS r GROUP BY collection ORDER BY collection"
    " ON CONFLICT (collection) DO UPDATE SET chunks = crew_keyword_stats.chunks + excluded.chunks,"
    " length = crew_keyword_stats.length + excluded.length;"
    " INSERT INTO crew_keyword_terms (collection, term, chunks)"
    " SELECT collection, t.lexeme, sum(sign) FROM ({rows}) AS r, unnest(r.tsv) AS t GROUP BY 1, 2"
    " HAVING sum(sign) <> 0 ORDER BY 1, 2"
    " ON CONFLICT (collection, term) DO UPDATE SET chunks = crew_keyword_terms.chunks + excluded.chunks;"
    " RETURN NULL; END $$"
)
_ADDED = "SELECT collection, 1 AS sign, length, tsv FROM new_rows"
_REMOVED = "SELECT collection, -1 AS sign, length, tsv FROM old_rows"

KEYWORDS = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    # unaccent() is STABLE (it reads a dictionary named at run time); naming the dictionary makes
    # the result depend on the text alone, which a generated column and its index need.
    "CREATE OR REPLACE FUNCTION crew_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
    " AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$",
    "CREATE TABLE IF NOT EXISTS crew_keyword_chunks (collection text NOT NULL, chunk_id text NOT NULL,"
    " doc_id text NOT NULL, stems text NOT NULL, length integer NOT NULL,"
    " tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, crew_unaccent(stems))) STORED,"
    " PRIMARY KEY (collection, chunk_id))",
    "CREATE INDEX IF NOT EXISTS crew_keyword_chunks_tsv ON crew_keyword_chunks USING gin (collection, tsv)"
    " WITH (fastupdate = off)",
    "CREATE INDEX IF NOT EXISTS crew_keyword_chunks_doc ON crew_keyword_chunks (collection, doc_id)",
    "CREATE TABLE IF NOT EXISTS crew_keyword_holds (collection text NOT NULL, doc_id text NOT NULL,"
    " since double precision NOT NULL, PRIMARY KEY (collection, doc_id))",
    # BM25 needs, on every search, each collection's chunk count and mean length and how many chunks hold
    # each query word (FTS5 keeps these itself). Counting them took 67 ms (count and length) and up to 40 ms
    # a common word at 100k chunks, so statement triggers keep them, as FTS5's fts5vocab table has them.
    "CREATE TABLE IF NOT EXISTS crew_keyword_stats (collection text PRIMARY KEY, chunks bigint NOT NULL,"
    " length bigint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS crew_keyword_terms (collection text NOT NULL, term text NOT NULL,"
    " chunks bigint NOT NULL, PRIMARY KEY (collection, term))",
    _STATS_FUNCTION.format(name="crew_keyword_stats_added", rows=_ADDED),
    _STATS_FUNCTION.format(name="crew_keyword_stats_changed", rows=f"{_ADDED} UNION ALL {_REMOVED}"),
    _STATS_FUNCTION.format(name="crew_keyword_stats_removed", rows=_REMOVED),
    "CREATE OR REPLACE TRIGGER crew_keyword_stats_ins AFTER INSERT ON crew_keyword_chunks"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION crew_keyword_stats_added()",
    "CREATE OR REPLACE TRIGGER crew_keyword_stats_upd AFTER UPDATE ON crew_keyword_chunks"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
    " EXECUTE FUNCTION crew_keyword_stats_changed()",
    "CREATE OR REPLACE TRIGGER crew_keyword_stats_del AFTER DELETE ON crew_keyword_chunks"
    " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION crew_keyword_stats_removed()",
)


def upgrade() -> None:
    bind = op.get_bind()
    for statement in CHATS + TRACES + DOCUMENTS + KEYWORDS:
        bind.exec_driver_sql(statement)  # as written: no bind-parameter parsing of `::` casts or `$1`


def downgrade() -> None:
    raise NotImplementedError("Crew's schema moves forward only; restore a backup to go back")
