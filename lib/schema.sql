-- The vioscope results database (SQLite). Migrations are applied in order
-- by lib/db.c; PRAGMA user_version holds the last one applied. Append new
-- migrations at the end; never edit one that has shipped.

-- migration 1
CREATE TABLE runs (
	id INTEGER PRIMARY KEY,
	label TEXT NOT NULL,		-- what nightly history groups by
	suite TEXT NOT NULL,
	git_revision TEXT,
	started_at TEXT NOT NULL,	-- UTC, ISO 8601
	finished_at TEXT,
	status TEXT NOT NULL,		-- running | done | interrupted
	command TEXT,			-- the vioscope run command line
	max_iterations INTEGER NOT NULL,	-- the stopping rule, kept for --resume
	min_iterations INTEGER NOT NULL,
	cv_target REAL NOT NULL		-- percent
);

-- Where it ran: kernel, cpu, kvm_kind (PVM | VT-x | SVM | TCG), versions.
CREATE TABLE environment (
	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (run_id, key)
);

-- One cell of the matrix: device class x mode x workload.
CREATE TABLE cells (
	id INTEGER PRIMARY KEY,
	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	class TEXT NOT NULL,		-- disk | net | usb | gfx
	mode TEXT NOT NULL,		-- emul | pv | pt | native
	workload TEXT NOT NULL,		-- the suite's name for it
	spec TEXT NOT NULL,		-- the workload parameters as written
	status TEXT NOT NULL,		-- running | done | unavailable | failed
	reason TEXT,			-- why unavailable or failed
	headline TEXT,			-- metric the iterations converge on
	cv REAL,			-- its coefficient of variation at the end
	UNIQUE (run_id, class, mode, workload)
);

-- One measured iteration of a cell (the warm-up is not stored).
CREATE TABLE iterations (
	id INTEGER PRIMARY KEY,
	cell_id INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	started_at TEXT NOT NULL,
	seconds REAL NOT NULL,
	UNIQUE (cell_id, seq)
);

CREATE TABLE metrics (
	iteration_id INTEGER NOT NULL REFERENCES iterations(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	unit TEXT NOT NULL,
	direction TEXT NOT NULL,	-- higher_is_better | lower_is_better
	value REAL NOT NULL,
	PRIMARY KEY (iteration_id, name)
);

-- Every per-I/O latency of an iteration, in ns: little-endian uint64s.
CREATE TABLE samples (
	iteration_id INTEGER PRIMARY KEY REFERENCES iterations(id) ON DELETE CASCADE,
	unit TEXT NOT NULL,
	count INTEGER NOT NULL,
	data BLOB NOT NULL
);

-- vioscope trace --stages per iteration (run --trace).
CREATE TABLE stages (
	iteration_id INTEGER NOT NULL REFERENCES iterations(id) ON DELETE CASCADE,
	device TEXT NOT NULL,
	stage TEXT NOT NULL,
	n INTEGER NOT NULL,
	mean_ns REAL NOT NULL,
	p50_ns REAL NOT NULL,
	p99_ns REAL NOT NULL,
	PRIMARY KEY (iteration_id, device, stage)
);

CREATE INDEX cells_by_run ON cells(run_id);
CREATE INDEX runs_by_label ON runs(label, id);

-- migration 2
-- Which hypervisor ran the guest modes: vioscope-vmm or qemu.
ALTER TABLE runs ADD COLUMN hypervisor TEXT NOT NULL DEFAULT 'vioscope-vmm';

-- migration 3
-- A display cell's last frame as the host saw it (PNG), from its last
-- iteration: the report shows it beside the numbers.
CREATE TABLE frames (
	cell_id INTEGER PRIMARY KEY REFERENCES cells(id) ON DELETE CASCADE,
	iteration_id INTEGER NOT NULL REFERENCES iterations(id) ON DELETE CASCADE,
	png BLOB NOT NULL
);
