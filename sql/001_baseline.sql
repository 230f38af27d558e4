-- Version 1: the V1 baseline, the shop schema exactly as the 2025-10-05 scale-readiness audit
-- found it, known defects included (no reservation UNIQUEs, no seller_response or images CHECK,
-- only the indexes the audit marks as existing); version 2 is where they are fixed.

-- Accounts.  Only email and name are required: guests become users at checkout.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT,
    phone TEXT,
    address TEXT,
    city TEXT,
    eircode TEXT,
    role TEXT DEFAULT 'customer',
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    token TEXT NOT NULL UNIQUE,
    expires_at DATETIME NOT NULL,
    ip_address TEXT,
    user_agent TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE password_resets (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    token TEXT NOT NULL UNIQUE,
    expires_at DATETIME NOT NULL,
    used INTEGER DEFAULT 0,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

-- Buy side.  The image_* columns and additional_images (a JSON array) duplicate the images
-- table: the audit's issue 4, left as found.
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    price REAL NOT NULL,
    category TEXT,
    brand TEXT,
    size TEXT,
    color TEXT,
    condition TEXT DEFAULT 'good'
        CHECK (condition IN ('new', 'like_new', 'excellent', 'good', 'fair')),
    status TEXT DEFAULT 'available'
        CHECK (status IN ('draft', 'available', 'reserved', 'sold', 'archived')),
    featured INTEGER DEFAULT 0,
    stock_quantity INTEGER NOT NULL DEFAULT 1,
    image_url TEXT,
    image_id TEXT,
    cloudflare_image_id TEXT,
    additional_images TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

-- user_id is nullable: guest checkout keeps the customer's details on the order itself.
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    order_number TEXT NOT NULL UNIQUE,
    user_id INTEGER REFERENCES users(id),
    status TEXT DEFAULT 'pending'
        CHECK (status IN ('pending', 'confirmed', 'processing', 'shipped', 'delivered',
                          'cancelled', 'refunded')),
    payment_status TEXT DEFAULT 'pending'
        CHECK (payment_status IN ('pending', 'paid', 'failed', 'refunded')),
    payment_reference TEXT,
    subtotal REAL DEFAULT 0,
    shipping_cost REAL DEFAULT 0,
    total_amount REAL DEFAULT 0,
    customer_name TEXT,
    customer_email TEXT,
    customer_phone TEXT,
    delivery_address TEXT,
    delivery_city TEXT,
    delivery_eircode TEXT,
    notes TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

-- price and product_name are snapshots taken at purchase, so later product edits do not
-- rewrite order history.
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL DEFAULT 1,
    price REAL,
    product_name TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

-- Cart holds.  As found: no UNIQUE on (product_id, user_id) or (product_id, session_id) and no
-- index, so duplicate cart entries are possible (audit issue 1).
CREATE TABLE product_reservations (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products(id),
    user_id INTEGER REFERENCES users(id),
    session_id TEXT,
    quantity INTEGER NOT NULL DEFAULT 1,
    expires_at DATETIME NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

-- Sell side.  status mixes the review and payout lifecycles (audit P2 item 2); seller_response
-- has no CHECK here, which version 2 adds.
CREATE TABLE sell_submissions (
    id INTEGER PRIMARY KEY,
    batch_id TEXT NOT NULL UNIQUE,
    user_id INTEGER REFERENCES users(id),
    name TEXT,
    email TEXT,
    phone TEXT,
    address TEXT,
    city TEXT,
    eircode TEXT,
    notes TEXT,
    status TEXT DEFAULT 'pending'
        CHECK (status IN ('pending', 'reviewing', 'approved', 'rejected', 'offer_sent',
                          'negotiating', 'accepted', 'paid', 'completed', 'cancelled')),
    seller_price REAL,
    offered_price REAL,
    final_price REAL,
    offer_message TEXT,
    offer_sent_at DATETIME,
    seller_response TEXT,
    seller_response_at DATETIME,
    counter_price REAL,
    counter_message TEXT,
    admin_notes TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE sell_items (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES sell_submissions(id),
    category TEXT,
    brand TEXT,
    size TEXT,
    condition TEXT,
    description TEXT,
    seller_price REAL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

-- An image belongs to a product or to a submission; as found nothing enforces "exactly one of
-- the two" (audit issue 4).  variants is a JSON array of variant URLs.
CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    cloudflare_id TEXT,
    url TEXT,
    variants TEXT,
    product_id INTEGER REFERENCES products(id),
    submission_id INTEGER REFERENCES sell_submissions(id),
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

-- Event stream.  No foreign keys on purpose: events refer loosely to users and products, and
-- must still be recorded for deleted or not-yet-created rows.  metadata is meant to be JSON.
CREATE TABLE analytics_events (
    id INTEGER PRIMARY KEY,
    event_type TEXT NOT NULL,
    user_id INTEGER,
    session_id TEXT,
    product_id INTEGER,
    metadata TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

-- Legacy per-page counters, superseded by analytics_events but still holding data.
CREATE TABLE analytics (
    id INTEGER PRIMARY KEY,
    page TEXT,
    views INTEGER DEFAULT 0,
    date TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

-- created_at is declared TEXT here, unlike every other table: that is how V1 has it.
CREATE TABLE system_logs (
    id INTEGER PRIMARY KEY,
    level TEXT NOT NULL,
    source TEXT,
    message TEXT NOT NULL,
    context TEXT,
    created_at TEXT DEFAULT CURRENT_TIMESTAMP
);

-- The indexes the audit marks as existing, and no others.
CREATE INDEX idx_users_email ON users(email);

CREATE INDEX idx_sessions_token ON sessions(token);
CREATE INDEX idx_sessions_user_id ON sessions(user_id);
CREATE INDEX idx_sessions_expires_at ON sessions(expires_at);

CREATE INDEX idx_password_resets_token ON password_resets(token);
CREATE INDEX idx_password_resets_expires_at ON password_resets(expires_at);

CREATE INDEX idx_products_category ON products(category);
CREATE INDEX idx_products_status ON products(status);
CREATE INDEX idx_products_brand ON products(brand);
CREATE INDEX idx_products_featured ON products(featured);
CREATE INDEX idx_products_sku ON products(sku);

CREATE INDEX idx_orders_order_number ON orders(order_number);
CREATE INDEX idx_orders_user_id ON orders(user_id);
CREATE INDEX idx_orders_status ON orders(status);
CREATE INDEX idx_orders_created_at ON orders(created_at);

CREATE INDEX idx_order_items_order_id ON order_items(order_id);
CREATE INDEX idx_order_items_product_id ON order_items(product_id);

CREATE INDEX idx_sell_submissions_batch_id ON sell_submissions(batch_id);
CREATE INDEX idx_sell_submissions_user_id ON sell_submissions(user_id);
