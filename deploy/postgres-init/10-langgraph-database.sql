-- The LangGraph Server keeps its assistants, threads, runs and task queue in a database of its
-- own (DATABASE_URI in docker-compose.yml), apart from the app's database (DATABASE_URL).
-- PostgreSQL runs this once, when the volume is first initialised.
CREATE DATABASE langgraph;
