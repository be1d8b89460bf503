"""What each page shows: reads shaped for templates (tables, charts), over the apps' selectors."""
