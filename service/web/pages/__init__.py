"""One module of page routes per domain; ``service.web.router`` gathers them."""
