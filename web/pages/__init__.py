"""Pages for people: server-rendered views over the apps' services and selectors."""
