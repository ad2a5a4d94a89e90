import cart

assert hasattr(cart, "cart_total"), "cart_total is missing"
assert not hasattr(cart, "calc"), "calc is still there"
assert cart.cart_total([(2.5, 2), (1.0, 3)]) == 8.0
assert cart.cart_total([]) == 0
assert cart.receipt([(2.5, 2)]) == "Total: 5.00"
