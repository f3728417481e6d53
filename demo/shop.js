// The demo shop: an ordinary product grid that follows shelfwise's markup contract. The shop itself only
// renders products and keeps a cart; shelfwise (loaded by the script tag) records events and reorders.
const PAGE = 48;
const grid = document.getElementById('grid');
const status = document.getElementById('status');
const cart = new Map();
let catalog = [];
let shown = [];
let rendered = 0;

const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const hash = (s) => {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
};

/** A tile drawn from the product's words: one shape per word, colors from the words' hashes. */
export function tile(title) {
  const words = title.split(/\s+/).filter(Boolean).slice(0, 5);
  const h = hash(title);
  const bg = `hsl(${h % 360} 45% 88%)`;
  const shapes = words
    .map((w, i) => {
      const k = hash(w),
        x = 20 + ((k >> 3) % 120),
        y = 20 + ((k >> 9) % 60),
        r = 10 + (k % 18),
        hue = (k >> 5) % 360;
      return i % 2
        ? `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${2 * r}" rx="4" fill="hsl(${hue} 55% 55% / .7)"/>`
        : `<circle cx="${x}" cy="${y}" r="${r}" fill="hsl(${hue} 60% 50% / .7)"/>`;
    })
    .join('');
  const initials = words
    .slice(0, 3)
    .map((w) => w[0])
    .join('');
  return `<svg viewBox="0 0 160 100" aria-hidden="true" focusable="false"><rect width="160" height="100" fill="${bg}"/>${shapes}<text x="8" y="92" font-size="16" font-family="system-ui, sans-serif" fill="#222">${esc(initials)}</text></svg>`;
}

export function category(title) {
  const w = title.trim().split(/\s+/);
  return (w[w.length - 1] || 'OTHER').replace(/[^A-Z]/gi, '').toUpperCase() || 'OTHER';
}

function card(p) {
  const li = document.createElement('li');
  li.className = 'card';
  li.setAttribute('data-shelfwise-item', p.id);
  li.setAttribute('data-shelfwise-category', p.category);
  if (p.outOfStock) li.setAttribute('data-shelfwise-stock', '0');
  li.innerHTML = `${tile(p.title)}
    <button type="button" class="title" data-open="${esc(p.id)}">${esc(p.title)}</button>
    <span class="price">£${p.price.toFixed(2)}</span>
    <span class="badge">${p.outOfStock ? 'out of stock · ' : ''}${esc(p.category.toLowerCase())}</span>
    <button type="button" data-shelfwise-action="add_to_cart" aria-label="Add ${esc(p.title)} to cart"${p.outOfStock ? ' disabled' : ''}>Add to cart</button>`;
  return li;
}

function renderMore() {
  const frag = document.createDocumentFragment();
  for (const p of shown.slice(rendered, rendered + PAGE)) frag.appendChild(card(p));
  rendered = Math.min(shown.length, rendered + PAGE);
  grid.appendChild(frag); // shelfwise picks up the new products (infinite scroll)
  document.getElementById('more').hidden = rendered >= shown.length;
}

function show(list) {
  shown = list;
  rendered = 0;
  grid.replaceChildren();
  renderMore();
}

function updateCart() {
  document.getElementById('cart-count').textContent = String([...cart.values()].reduce((n, c) => n + c.qty, 0));
  const ul = document.getElementById('cart-items');
  ul.replaceChildren(
    ...[...cart.values()].map((c) => {
      const li = document.createElement('li');
      li.innerHTML = `${esc(c.p.title)} × ${c.qty} <button type="button" aria-label="Remove ${esc(c.p.title)}">Remove</button>`;
      li.querySelector('button').addEventListener('click', () => {
        shelfwise('track', { type: 'remove_from_cart', itemId: c.p.id });
        cart.delete(c.p.id);
        updateCart();
      });
      return li;
    }),
  );
  const total = [...cart.values()].reduce((n, c) => n + c.qty * c.p.price, 0);
  document.getElementById('cart-total').textContent = cart.size ? `Total £${total.toFixed(2)}` : 'Your cart is empty.';
  document.getElementById('checkout').disabled = cart.size === 0;
}

function addToCart(p) {
  const c = cart.get(p.id) ?? { p, qty: 0 };
  c.qty++;
  cart.set(p.id, c);
  updateCart();
}

function openDetail(p) {
  shelfwise('track', { type: 'view', itemId: p.id });
  const d = document.getElementById('detail');
  d.querySelector('.detail-body').innerHTML =
    `${tile(p.title)}<h2 id="detail-title">${esc(p.title)}</h2><p class="price">£${p.price.toFixed(2)}</p>
    <p class="small">Stock code ${esc(p.id)} · ${esc(p.category.toLowerCase())}${p.outOfStock ? ' · out of stock' : ''}</p>
    <button type="button" id="detail-add"${p.outOfStock ? ' disabled' : ''}>Add to cart</button>`;
  d.querySelector('#detail-add').addEventListener('click', () => {
    shelfwise('track', { type: 'add_to_cart', itemId: p.id });
    addToCart(p);
    d.close();
  });
  d.showModal();
}

async function main() {
  const res = await fetch('/models/online-retail/catalog.json');
  if (!res.ok) {
    status.textContent = 'The catalog (the model vocabulary) could not be loaded.';
    return;
  }
  const v = await res.json();
  // The vocabulary is ordered by sales in the training period: the merchant's default (bestseller) order.
  catalog = v.ids.map((id, i) => ({
    id,
    title: v.titles?.[i] || id,
    price: v.prices?.[i] ?? 0,
    category: category(v.titles?.[i] || id),
    outOfStock: i % 17 === 16,
  }));
  window.demoCatalog = catalog;
  show(catalog);
  grid.addEventListener('click', (e) => {
    const open = e.target.closest('[data-open]');
    if (open) {
      const p = catalog.find((x) => x.id === open.dataset.open);
      if (p) openDetail(p);
      return;
    }
    const add = e.target.closest('[data-shelfwise-action="add_to_cart"]');
    if (add) {
      const p = catalog.find((x) => x.id === add.closest('[data-shelfwise-item]').dataset.shelfwiseItem);
      if (p) addToCart(p);
    }
  });
  document.getElementById('more').addEventListener('click', renderMore);
  document.getElementById('search').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = document.getElementById('q').value.trim();
    if (q) shelfwise('track', { type: 'search', query: q });
    const words = q.toUpperCase().split(/\s+/).filter(Boolean);
    show(words.length ? catalog.filter((p) => words.every((w) => p.title.toUpperCase().includes(w))) : catalog);
    document.getElementById('grid-title').textContent = q
      ? `Results for “${q}” (${shown.length})`
      : 'Bestsellers, personalized for you';
  });
  document.getElementById('cart-button').addEventListener('click', () => document.getElementById('cart').showModal());
  document.getElementById('checkout').addEventListener('click', () => {
    for (const c of cart.values()) shelfwise('track', { type: 'purchase', itemId: c.p.id });
    cart.clear();
    updateCart();
    document.getElementById('cart').close();
    status.textContent = 'Thank you for your order.';
  });
  updateCart();
  window.addEventListener('shelfwise:error', (e) => {
    status.textContent = `Personalization is off: ${e.detail.message}`;
  });
  shelfwise('ready', (rec) => {
    status.textContent = rec.backend ? `Personalized in this page on ${rec.backend}.` : status.textContent;
  });
  import('./panel.js').then((m) => m.initPanel(catalog));
}
main();
