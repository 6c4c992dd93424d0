from autoreid.cli import run

run()
