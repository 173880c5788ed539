def f(x, *args, **kw):
    """Docstring."""
    if x>=0 and x!=1:
        return {'k': [x**2, x//3]}  # comment
    for i in range(10):
	pass

class A(B):
    pass

int main(){std::vector<int> v={1,2};return v[0]<<2;}
$ ls -la | grep '^d' && echo "$HOME"
<div class="x">&amp;&lt;</div>
