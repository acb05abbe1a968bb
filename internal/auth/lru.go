package auth

import "container/list"

// lru is a map of at most max keys that forgets the least recently used
// key first. It is not safe for concurrent use: its owners lock.
type lru[V any] struct {
	max   int
	ll    *list.List // of *lruEntry[V], most recently used first
	byKey map[string]*list.Element
}

// lruEntry is one key and its value.
type lruEntry[V any] struct {
	key string
	val V
}

func newLRU[V any](maxKeys int) *lru[V] {
	return &lru[V]{max: max(maxKeys, 1), ll: list.New(), byKey: make(map[string]*list.Element)}
}

// get returns key's value, marking it used, or nil.
func (c *lru[V]) get(key string) *V {
	el, ok := c.byKey[key]
	if !ok {
		return nil
	}
	c.ll.MoveToFront(el)
	return &el.Value.(*lruEntry[V]).val
}

// add stores a new key (which must be missing) with value v, forgetting
// the least recently used keys beyond max, and returns its value.
func (c *lru[V]) add(key string, v V) *V {
	for c.ll.Len() >= c.max {
		c.removeElement(c.ll.Back())
	}
	el := c.ll.PushFront(&lruEntry[V]{key: key, val: v})
	c.byKey[key] = el
	return &el.Value.(*lruEntry[V]).val
}

// oldest returns the least recently used value, or nil when empty.
func (c *lru[V]) oldest() *V {
	if el := c.ll.Back(); el != nil {
		return &el.Value.(*lruEntry[V]).val
	}
	return nil
}

// removeOldest forgets the least recently used key.
func (c *lru[V]) removeOldest() {
	if el := c.ll.Back(); el != nil {
		c.removeElement(el)
	}
}

// remove forgets key.
func (c *lru[V]) remove(key string) {
	if el, ok := c.byKey[key]; ok {
		c.removeElement(el)
	}
}

func (c *lru[V]) removeElement(el *list.Element) {
	c.ll.Remove(el)
	delete(c.byKey, el.Value.(*lruEntry[V]).key)
}

func (c *lru[V]) len() int { return c.ll.Len() }
