"""Runnable example services: a FastAPI gateway calling a Flask user service.

Run them (from the repository root)::

    gunicorn -c examples/gunicorn_conf.py --chdir examples flask_users:app --bind 127.0.0.1:8001
    USERS_SERVICE_URL=http://127.0.0.1:8001 uvicorn fastapi_gateway:app --app-dir examples \
        --port 8000 --no-access-log
"""
