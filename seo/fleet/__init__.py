"""Several businesses from one installation: run a job for each of many project folders.

Each client is a project folder of its own (config, content, its own store); `seo fleet run JOB`
runs `seo run JOB` for each in a child process of its own, a few at a time, and prints one line per
client. Nothing is shared but the installation: two clients whose stores are the same file, or the
same PostgreSQL database and schema, are refused before anything runs.
"""
