"""How a worker that runs student code is started: one module per start method (fork, spawn, bwrap,
unprivileged), chosen by ``tbcourse.runner.pool``. Imported by the pool and the runner's face only."""
