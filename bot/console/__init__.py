"""The agents' console: two sub-applications (routes.py), the API under /api/agent and
the pages under /agent, both behind the require_agent middleware."""
