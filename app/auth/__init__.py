"""Who is asking, and may they: admin token, one-time login codes, sessions, role checks.

* The **admin token** is created at the first start and printed once (``ensure_admin_token``);
  only its SHA-256 is stored. It acts as role ``admin`` for every congress.
* An **official** logs in once with a one-time **login code** (also shown as a QR code a tablet
  scans); the code is consumed and yields a **session token** that expires after
  ``Settings.session_hours``. An official's session is limited to their own congress.
* Every endpoint declares one ``Permission`` through an ``Annotated`` dependency;
  ``ROLE_PERMISSIONS`` is the role matrix (tests/test_auth_matrix.py proves it, endpoint by
  endpoint).

Send the token as ``Authorization: Bearer <token>``.

``roles`` (the matrix, the caller) ← ``service`` (codes, sessions, tokens; appends the login
events) ← ``deps`` (FastAPI dependencies) ← ``router`` (``/api/auth``).
"""
