-- Operator accounts hold password hashes, their sessions token hashes, and their actions say who did
-- what to whom: the analyst role (0003, which grants it every new table by default) may not read them.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'analyst') THEN
    REVOKE ALL ON "operators", "operator_sessions", "operator_actions" FROM analyst;
  END IF;
EXCEPTION
  WHEN OTHERS THEN RAISE NOTICE 'analyst grants on operator tables not changed (%)', SQLERRM;
END $$;
