/**
 * The node store's schema, as forward migrations: `migrations[i]` takes a database from
 * `user_version` i to i + 1, inside one transaction. Append new steps; never edit a released one.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE specs (
    task_id TEXT PRIMARY KEY NOT NULL,
    spec TEXT NOT NULL -- SignedSpec in its wire form: JSON, bigints as decimal strings
  );
  CREATE TABLE own_commits (
    task_id TEXT PRIMARY KEY NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    result_hash TEXT NOT NULL,
    salt TEXT NOT NULL,
    signed TEXT NOT NULL -- Signed<Commit> as JSON
  );
  CREATE TABLE verdicts (
    task_id TEXT PRIMARY KEY NOT NULL,
    verdict TEXT NOT NULL -- Verdict as JSON
  );
  CREATE TABLE batch_signatures (
    epoch INTEGER PRIMARY KEY NOT NULL,
    digest TEXT NOT NULL,
    signature TEXT NOT NULL
  );
  `,
  // Commits are signed in batches now: a node keeps the commitment it must re-send, not a signature.
  `
  ALTER TABLE own_commits ADD COLUMN commitment TEXT NOT NULL DEFAULT '';
  UPDATE own_commits SET commitment = json_extract(signed, '$.message.commitment');
  ALTER TABLE own_commits DROP COLUMN signed;
  `,
  // A member signs one batch per settlement round of an epoch (docs/protocol.md): keyed by both.
  `
  CREATE TABLE batch_signatures_by_round (
    epoch INTEGER NOT NULL,
    round INTEGER NOT NULL,
    digest TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (epoch, round)
  );
  INSERT INTO batch_signatures_by_round (epoch, round, digest, signature) SELECT epoch, 0, digest, signature FROM batch_signatures;
  DROP TABLE batch_signatures;
  ALTER TABLE batch_signatures_by_round RENAME TO batch_signatures;
  `,
]

/** `PRAGMA application_id` of a veritask node store: "vrtk". */
export const storeApplicationId = 0x7672746b
