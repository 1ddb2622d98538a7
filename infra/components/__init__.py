"""One construct per concern; PayportalStack (infra/stack.py) composes them."""
