"""The forms of the pages and the admin."""
