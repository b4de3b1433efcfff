// FlywheelData: tables, CSV/JSONL, schemas, validation, profiles.
