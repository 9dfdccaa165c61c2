"""The staff console: the web app staff use every day, served as static files (HTML, JS modules,
CSS) with the label table and the dev stack's sign-in; the browser calls the services' APIs."""
