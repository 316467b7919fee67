//! Deterministic synthetic data for demos and benchmarks: the same `--seed` always gives the
//! same rows (ids included), shaped like a real CRM: several accounts per customer, direct,
//! account-level and shared contacts, contact points of every kind, typed addresses.

use std::fmt;

use chrono::{DateTime, TimeZone, Utc};
use entity::{
    account, address, contact, contact_address, contact_point, customer, shared_contact_link,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, TransactionTrait,
};
use uuid::Uuid;

use crate::contact::input::display_name;
use crate::error::Result;
use crate::ordering::sort_name;

/// Customers written per transaction: big enough to amortise commits, small enough to keep
/// memory flat for any `--customers`.
const CUSTOMERS_PER_TRANSACTION: usize = 1_000;

/// Rows per INSERT. The widest table (contact, 24 columns) then binds 12,000 values, well
/// under SQLite's 32,766 and PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 500;

/// 2026-01-01T00:00:00Z: seeded rows are stamped from here on, one millisecond apart, so ids
/// (UUIDv7) sort in creation order and before anything created at run time.
const EPOCH_MS: i64 = 1_767_225_600_000;

/// What was written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedCounts {
    /// Customers.
    pub customers: usize,
    /// Accounts.
    pub accounts: usize,
    /// Contacts of every kind.
    pub contacts: usize,
    /// Contact points.
    pub contact_points: usize,
    /// Addresses.
    pub addresses: usize,
    /// Links between customers and shared contacts.
    pub shared_links: usize,
}

impl fmt::Display for SeedCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} customers, {} accounts, {} contacts, {} contact points, {} addresses, {} shared links",
            self.customers,
            self.accounts,
            self.contacts,
            self.contact_points,
            self.addresses,
            self.shared_links
        )
    }
}

/// SplitMix64: tiny, fast, and the same on every platform — all seeding needs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn digits(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Katherine",
    "Linus",
    "Margaret",
    "Niklaus",
    "Radia",
    "Tim",
    "Sophie",
    "Ken",
    "Dennis",
    "Hedy",
    "Claude",
    "Shafi",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "McCarthy",
    "Johnson",
    "Torvalds",
    "Hamilton",
    "Wirth",
    "Perlman",
    "Berners-Lee",
    "Wilson",
    "Thompson",
    "Ritchie",
    "Lamarr",
    "Shannon",
    "Goldwasser",
];
const COMPANY_WORDS: &[&str] = &[
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Acme",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Aperture",
];
const COMPANY_KINDS: &[&str] = &[
    "Traders",
    "Logistics",
    "Foods",
    "Energy",
    "Systems",
    "Holdings",
    "Partners",
    "Labs",
];
const COMPANY_SUFFIXES: &[&str] = &["Ltd", "Inc", "GmbH", "LLC", "Pty Ltd", "SA"];
const ACCOUNT_PURPOSES: &[&str] = &["Billing", "Operations", "Retail", "Wholesale", "Online"];
const STREETS: &[&str] = &[
    "High Street",
    "Main Street",
    "Station Road",
    "Church Lane",
    "Park Avenue",
    "King Street",
];
/// (country, calling code, city, state code, state name, postal code digits)
const PLACES: &[(&str, &str, &str, &str, &str, usize)] = &[
    ("US", "1", "San Francisco", "CA", "California", 5),
    ("US", "1", "Austin", "TX", "Texas", 5),
    ("GB", "44", "London", "LND", "London", 5),
    ("AU", "61", "Sydney", "NSW", "New South Wales", 4),
    ("DE", "49", "Berlin", "BE", "Berlin", 5),
    ("CA", "1", "Toronto", "ON", "Ontario", 6),
];

/// Accumulates one transaction's rows.
#[derive(Default)]
struct Batch {
    customers: Vec<customer::ActiveModel>,
    accounts: Vec<account::ActiveModel>,
    contacts: Vec<contact::ActiveModel>,
    contact_points: Vec<contact_point::ActiveModel>,
    addresses: Vec<address::ActiveModel>,
    contact_addresses: Vec<contact_address::ActiveModel>,
    shared_links: Vec<shared_contact_link::ActiveModel>,
}

impl Batch {
    fn counts(&self) -> SeedCounts {
        SeedCounts {
            customers: self.customers.len(),
            accounts: self.accounts.len(),
            contacts: self.contacts.len(),
            contact_points: self.contact_points.len(),
            addresses: self.addresses.len(),
            shared_links: self.shared_links.len(),
        }
    }
}

/// Generates rows; `clock` hands out timestamps (and with them UUIDv7 ids) in order.
struct Generator {
    rng: Rng,
    seed: u64,
    clock: i64,
    /// Recent customers a new shared contact may also be linked to.
    recent_customers: Vec<Uuid>,
}

impl Generator {
    fn stamp(&mut self) -> (Uuid, DateTime<Utc>) {
        self.clock += 1;
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&self.rng.next().to_le_bytes());
        random[8..].copy_from_slice(&self.rng.next().to_le_bytes()[..2]);
        let id = uuid::Builder::from_unix_timestamp_millis(self.clock as u64, &random).into_uuid();
        let at = Utc
            .timestamp_millis_opt(self.clock)
            .single()
            .unwrap_or_else(Utc::now);
        (id, at)
    }

    fn company_name(&mut self) -> String {
        format!(
            "{} {} {}",
            self.rng.pick(COMPANY_WORDS),
            self.rng.pick(COMPANY_KINDS),
            self.rng.pick(COMPANY_SUFFIXES)
        )
    }

    fn customer(&mut self, batch: &mut Batch, index: usize) {
        let (id, at) = self.stamp();
        let name = self.company_name();
        batch.customers.push(
            customer::Model {
                id,
                name: name.clone(),
                sort_name: sort_name(&name),
                customer_number: Some(format!("C{}-{index:07}", self.seed)),
                tax_id: Some(format!(
                    "{}-{}-{}",
                    self.rng.digits(3),
                    self.rng.digits(2),
                    self.rng.digits(4)
                )),
                dealer_code: Some(format!("D{:02}", self.rng.below(20))),
                created_at: at,
                updated_at: at,
                version: 1,
            }
            .into_active_model()
            .reset_all(),
        );

        self.contact(batch, Owner::Customer(id), "PRIMARY", false);
        if self.rng.chance(60) {
            self.contact(batch, Owner::Customer(id), "SECONDARY", false);
        }
        if self.rng.chance(40) {
            self.contact(batch, Owner::Customer(id), "OTHER", true);
        }

        let account_count = 1 + self.rng.below(4) as usize;
        for number in 0..account_count {
            let (account_id, at) = self.stamp();
            let status = match self.rng.below(20) {
                0 => "SUSPENDED",
                1 => "CLOSED",
                _ => "ACTIVE",
            };
            let account_name = format!("{name} {}", self.rng.pick(ACCOUNT_PURPOSES));
            batch.accounts.push(
                account::Model {
                    id: account_id,
                    customer_id: id,
                    sort_name: sort_name(&account_name),
                    name: account_name,
                    account_number: Some(format!("A{}-{index:07}-{number}", self.seed)),
                    status: status.to_owned(),
                    created_at: at,
                    updated_at: at,
                    version: 1,
                }
                .into_active_model()
                .reset_all(),
            );
            let owner = Owner::Account {
                customer_id: id,
                account_id,
            };
            self.contact(batch, owner, "PRIMARY", false);
            if self.rng.chance(50) {
                let company = self.rng.chance(30);
                self.contact(batch, owner, "OTHER", company);
            }
        }

        // Every fifth customer brings a shared contact (an accountant, a broker) that its
        // neighbours use too.
        if index % 5 == 4 {
            let shared_id = self.contact(batch, Owner::Shared, "OTHER", true);
            let mut linked = vec![id];
            let extra = 1 + self.rng.below(3) as usize;
            for _ in 0..extra {
                if self.recent_customers.is_empty() {
                    break;
                }
                let other = self.recent_customers
                    [self.rng.below(self.recent_customers.len() as u64) as usize];
                if !linked.contains(&other) {
                    linked.push(other);
                }
            }
            for customer_id in linked {
                let (_, at) = self.stamp();
                batch.shared_links.push(
                    shared_contact_link::Model {
                        customer_id,
                        contact_id: shared_id,
                        created_at: at,
                    }
                    .into_active_model()
                    .reset_all(),
                );
            }
        }
        self.recent_customers.push(id);
        if self.recent_customers.len() > 8 {
            self.recent_customers.remove(0);
        }
    }

    fn contact(&mut self, batch: &mut Batch, owner: Owner, role: &str, company: bool) -> Uuid {
        let (id, at) = self.stamp();
        let (customer_id, account_id) = match owner {
            Owner::Customer(customer_id) => (Some(customer_id), None),
            Owner::Account {
                customer_id,
                account_id,
            } => (Some(customer_id), Some(account_id)),
            Owner::Shared => (None, None),
        };
        let first = self.rng.pick(FIRST_NAMES);
        let last = self.rng.pick(LAST_NAMES);
        let company_name = company.then(|| self.company_name());
        let domain = company_name
            .as_deref()
            .unwrap_or("example")
            .split(' ')
            .next()
            .unwrap_or("example")
            .to_lowercase();
        let email = format!(
            "{}.{}@{domain}.example",
            first.to_lowercase(),
            last.to_lowercase()
        );
        let mut row = contact::Model {
            id,
            customer_id,
            account_id,
            subtype: if company { "COMPANY" } else { "PERSON" }.to_owned(),
            role: role.to_owned(),
            title: (!company).then(|| self.rng.pick(&["Mr", "Ms", "Dr", "Mx"]).to_owned()),
            first_name: (!company).then(|| first.to_owned()),
            last_name: (!company).then(|| last.to_owned()),
            company_name,
            position: Some(
                self.rng
                    .pick(&["Director", "Accountant", "Buyer", "Owner", "Engineer"])
                    .to_owned(),
            ),
            email_address: Some(email.clone()),
            website: company.then(|| format!("https://www.{domain}.example")),
            tax_id: self.rng.chance(50).then(|| {
                format!(
                    "{}-{}-{}",
                    self.rng.digits(3),
                    self.rng.digits(2),
                    self.rng.digits(4)
                )
            }),
            is_used_for_tax: self.rng.chance(20),
            contact_number: Some(format!("K{}-{}", self.seed, id.simple())),
            contact_type: Some(
                self.rng
                    .pick(&["BILLING", "TECHNICAL", "SALES", "GENERAL"])
                    .to_owned(),
            ),
            dealer_code: Some(format!("D{:02}", self.rng.below(20))),
            status: if self.rng.chance(10) {
                "ARCHIVED"
            } else {
                "ACTIVE"
            }
            .to_owned(),
            bank_account_details: self.rng.chance(30).then(|| {
                format!(
                    "GB{} {} {}",
                    self.rng.digits(2),
                    self.rng.digits(4),
                    self.rng.digits(8)
                )
            }),
            account_password_hash: None,
            sort_name: String::new(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        row.sort_name = sort_name(&display_name(&row));
        batch.contacts.push(row.into_active_model().reset_all());
        self.contact_points(batch, id, &email, company);
        self.addresses(batch, id);
        id
    }

    fn contact_points(&mut self, batch: &mut Batch, contact_id: Uuid, email: &str, company: bool) {
        let place = PLACES[self.rng.below(PLACES.len() as u64) as usize];
        let mut points: Vec<(&str, Option<String>, bool)> =
            vec![("EMAIL", Some(email.to_owned()), true)];
        points.push((
            if self.rng.chance(50) {
                "MOBILE"
            } else {
                "PHONE"
            },
            None,
            true,
        ));
        if self.rng.chance(25) {
            points.push(("DDI", None, false));
        }
        if self.rng.chance(10) {
            points.push(("FAX", None, false));
        }
        if company {
            points.push((
                "WEBSITE",
                Some(format!(
                    "https://{}.example",
                    self.rng.pick(COMPANY_WORDS).to_lowercase()
                )),
                true,
            ));
        }
        if self.rng.chance(5) {
            points.push((
                "OTHER",
                Some(format!("@{}", email.split('@').next().unwrap_or("contact"))),
                false,
            ));
        }
        for (kind, value, is_primary) in points {
            let (id, at) = self.stamp();
            let phone = value.is_none();
            batch.contact_points.push(
                contact_point::Model {
                    id,
                    contact_id,
                    kind: kind.to_owned(),
                    value,
                    country_code: phone.then(|| place.1.to_owned()),
                    area_code: phone.then(|| {
                        let len = 2 + self.rng.below(2) as usize;
                        self.rng.digits(len)
                    }),
                    number: phone.then(|| {
                        let len = 7 + self.rng.below(2) as usize;
                        self.rng.digits(len)
                    }),
                    is_primary,
                    created_at: at,
                    updated_at: at,
                    version: 1,
                }
                .into_active_model()
                .reset_all(),
            );
        }
    }

    fn addresses(&mut self, batch: &mut Batch, contact_id: Uuid) {
        let count = if self.rng.chance(30) { 2 } else { 1 };
        for n in 0..count {
            let (id, at) = self.stamp();
            let place = PLACES[self.rng.below(PLACES.len() as u64) as usize];
            let address_type = if n == 0 {
                "STREET"
            } else {
                self.rng.pick(&["BILLING", "POSTAL", "POBOX"])
            };
            batch.addresses.push(
                address::Model {
                    id,
                    address_type: address_type.to_owned(),
                    line1: format!("{} {}", 1 + self.rng.below(400), self.rng.pick(STREETS)),
                    line2: self
                        .rng
                        .chance(20)
                        .then(|| format!("Suite {}", 1 + self.rng.below(50))),
                    line3: None,
                    line4: None,
                    city: place.2.to_owned(),
                    state_code: place.3.to_owned(),
                    state_name: Some(place.4.to_owned()),
                    postal_code: self.rng.digits(place.5),
                    country: Some(place.0.to_owned()),
                    latitude: Some((self.rng.below(180_000) as f64 / 1000.0) - 90.0),
                    longitude: Some((self.rng.below(360_000) as f64 / 1000.0) - 180.0),
                    created_at: at,
                    updated_at: at,
                    version: 1,
                }
                .into_active_model()
                .reset_all(),
            );
            batch.contact_addresses.push(
                contact_address::Model {
                    contact_id,
                    address_id: id,
                    is_primary: n == 0,
                    created_at: at,
                }
                .into_active_model()
                .reset_all(),
            );
        }
    }
}

#[derive(Clone, Copy)]
enum Owner {
    Customer(Uuid),
    Account { customer_id: Uuid, account_id: Uuid },
    Shared,
}

/// Insert `rows` into `E`'s table in bounded multi-row INSERTs.
async fn insert_all<E, A>(db: &impl sea_orm::ConnectionTrait, rows: Vec<A>) -> Result<()>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        E::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Insert `customers` customers and everything around them, generated from `seed`.
pub async fn seed(db: &DatabaseConnection, customers: usize, seed: u64) -> Result<SeedCounts> {
    let mut generator = Generator {
        rng: Rng(seed),
        seed,
        clock: EPOCH_MS + (seed % 1_000) as i64 * 100_000_000,
        recent_customers: Vec::new(),
    };
    let mut total = SeedCounts::default();
    let mut index = 0;
    while index < customers {
        let end = (index + CUSTOMERS_PER_TRANSACTION).min(customers);
        let mut batch = Batch::default();
        for i in index..end {
            generator.customer(&mut batch, i);
        }
        let counts = batch.counts();
        let txn = db.begin().await?;
        insert_all(&txn, batch.customers).await?;
        insert_all(&txn, batch.accounts).await?;
        insert_all(&txn, batch.contacts).await?;
        insert_all(&txn, batch.contact_points).await?;
        insert_all(&txn, batch.addresses).await?;
        insert_all(&txn, batch.contact_addresses).await?;
        insert_all(&txn, batch.shared_links).await?;
        txn.commit().await?;
        total.customers += counts.customers;
        total.accounts += counts.accounts;
        total.contacts += counts.contacts;
        total.contact_points += counts.contact_points;
        total.addresses += counts.addresses;
        total.shared_links += counts.shared_links;
        index = end;
    }
    // Bulk loads leave the planners without statistics: without them PostgreSQL chose
    // sequential scans over the loader indexes (20-70 ms per statement at 10,000 customers).
    db.execute_unprepared("ANALYZE").await?;
    Ok(total)
}

/// Customers in the demo data set.
const DEMO_CUSTOMERS: usize = 12;

/// Load the demo data set, unless the database already has customers.
pub async fn load_demo(db: &DatabaseConnection) -> Result<Option<SeedCounts>> {
    if customer::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    seed(db, DEMO_CUSTOMERS, 42).await.map(Some)
}
