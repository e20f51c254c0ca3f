package vertexplaytest

// window remembers keys until they expire, oldest first, and at most max of
// them. Keys are added in (nearly) expiry order, so expired ones are popped from
// the front: amortised constant time per request, and memory bounded by the
// window and by max, whatever the number of requests served.
type window[K comparable] struct {
	max  int
	seen map[K]struct{}
	q    []entry[K] // q[head:] are the live entries, oldest first
	head int
}

type entry[K comparable] struct {
	key     K
	expires int64 // Unix ms
}

func newWindow[K comparable](max int) *window[K] {
	return &window[K]{max: max, seen: make(map[K]struct{})}
}

func (w *window[K]) has(k K) bool { _, ok := w.seen[k]; return ok }

func (w *window[K]) len() int { return len(w.q) - w.head }

// prune forgets the entries at the front that expired before now.
func (w *window[K]) prune(now int64) {
	for w.head < len(w.q) && w.q[w.head].expires < now {
		w.pop()
	}
}

// add remembers k until expires. When the window is full it forgets the oldest
// entry first and returns it.
func (w *window[K]) add(k K, expires int64) (forgotten entry[K], full bool) {
	if w.len() >= w.max {
		forgotten, full = w.pop(), true
	}
	w.seen[k] = struct{}{}
	w.q = append(w.q, entry[K]{k, expires})
	return forgotten, full
}

func (w *window[K]) pop() entry[K] {
	e := w.q[w.head]
	delete(w.seen, e.key)
	w.q[w.head] = entry[K]{}
	w.head++
	// Slide the live entries back once the dead prefix is as long as they
	// are: each entry is copied at most once per time it is passed over.
	if w.head >= 1024 && w.head*2 >= len(w.q) {
		n := copy(w.q, w.q[w.head:])
		clear(w.q[n:])
		w.q, w.head = w.q[:n], 0
	}
	return e
}

func (w *window[K]) reset() {
	clear(w.seen)
	w.q, w.head = nil, 0
}
