# Read by the flask command (through python-dotenv): `flask ...` finds the app from
# the repository without exporting FLASK_APP. wsgi.py is for gunicorn only.
FLASK_APP=app:create_app
