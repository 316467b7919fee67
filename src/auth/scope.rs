//! Row-level read scoping, written once and applied by every service query and loader.
//!
//! A [`Scope`] turns into SQL conditions on each table, so out-of-scope rows are never read
//! at all: nothing can leak through a list, a nested edge or a loader cache.

use std::collections::BTreeSet;

use entity::{account, change_party, change_record, contact, customer, shared_contact_link};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

use super::Role;

/// Which customers an AGENCY caller reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgencyReach {
    /// The token had no `customers` claim.
    AllCustomers,
    /// Only these customers' accounts.
    Customers(Vec<Uuid>),
}

/// What a caller may read. Several roles combine as the union of what each grants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// ADMIN or SERVICE: everything.
    everything: bool,
    /// CUSTOMER, DELEGATE, INTERMEDIARY: these customers, their accounts and all their contacts
    /// (direct, account-level and linked shared ones).
    customers: Vec<Uuid>,
    /// AGENCY: accounts and account-level contacts only.
    agency: Option<AgencyReach>,
}

impl Scope {
    /// The scope granted by a set of roles and the token's `customers` claim.
    pub fn for_roles(roles: &BTreeSet<Role>, customers: Option<&[Uuid]>) -> Scope {
        let everything = roles.contains(&Role::Admin) || roles.contains(&Role::Service);
        let customer_level = [Role::Customer, Role::Delegate, Role::Intermediary]
            .iter()
            .any(|role| roles.contains(role));
        let agency = roles.contains(&Role::Agency).then(|| match customers {
            None => AgencyReach::AllCustomers,
            Some(ids) => AgencyReach::Customers(ids.to_vec()),
        });
        Scope {
            everything,
            customers: if customer_level {
                customers.map(<[Uuid]>::to_vec).unwrap_or_default()
            } else {
                Vec::new()
            },
            agency,
        }
    }

    /// The scope of ADMIN and SERVICE callers (and of internal tools such as `seed`).
    pub fn everything() -> Scope {
        Scope {
            everything: true,
            ..Scope::default()
        }
    }

    /// Whether this scope sees every row.
    pub fn is_everything(&self) -> bool {
        self.everything
    }

    /// Rows of `customer` the caller may see. AGENCY callers see no customer rows.
    pub fn customer_condition(&self) -> Condition {
        if self.everything {
            return Condition::all();
        }
        Condition::all().add(customer::Column::Id.is_in(self.customers.iter().copied()))
    }

    /// Rows whose customer id column `customer_id` names a customer the caller may see at
    /// customer level (used for shared links: a link never reveals an invisible customer).
    pub fn visible_customer_id(&self, customer_id: SimpleExpr) -> Condition {
        if self.everything {
            return Condition::all();
        }
        Condition::all().add(customer_id.is_in(self.customers.iter().copied()))
    }

    /// Rows of `account` the caller may see.
    pub fn account_condition(&self) -> Condition {
        if self.everything {
            return Condition::all();
        }
        let mut any =
            Condition::any().add(account::Column::CustomerId.is_in(self.customers.iter().copied()));
        match &self.agency {
            Some(AgencyReach::AllCustomers) => return Condition::all(),
            Some(AgencyReach::Customers(ids)) => {
                any = any.add(account::Column::CustomerId.is_in(ids.iter().copied()));
            }
            None => {}
        }
        any
    }

    /// Rows of `contact` the caller may see: owned by one of its customers (directly or through
    /// an account), shared and linked to one of them, or (AGENCY) account-level.
    pub fn contact_condition(&self) -> Condition {
        if self.everything {
            return Condition::all();
        }
        let mut any = Condition::any();
        if !self.customers.is_empty() {
            any = any
                .add(contact::Column::CustomerId.is_in(self.customers.iter().copied()))
                .add(
                    contact::Column::Id.in_subquery(
                        Query::select()
                            .column(shared_contact_link::Column::ContactId)
                            .from(shared_contact_link::Entity)
                            .and_where(
                                shared_contact_link::Column::CustomerId
                                    .is_in(self.customers.iter().copied()),
                            )
                            .to_owned(),
                    ),
                );
        }
        match &self.agency {
            Some(AgencyReach::AllCustomers) => {
                any = any.add(contact::Column::AccountId.is_not_null());
            }
            Some(AgencyReach::Customers(ids)) => {
                any = any.add(
                    Condition::all()
                        .add(contact::Column::AccountId.is_not_null())
                        .add(contact::Column::CustomerId.is_in(ids.iter().copied())),
                );
            }
            None => {}
        }
        if any.is_empty() {
            // An empty OR would mean "no restriction"; this caller sees no contact at all.
            return Condition::all().add(Expr::val(false));
        }
        any
    }

    /// Change records the caller may see, beside the object they are read through: a change
    /// concerning no customer (a shared contact linked to none), or one of the caller's
    /// customers; for AGENCY, account-level changes of the customers it reaches. A change
    /// concerning another customer (a link to it, a contact's changes from before it was
    /// shared with the caller) stays hidden. [`Scope::sees_change`] is the same rule in memory.
    pub fn change_condition(&self) -> Condition {
        if self.everything {
            return Condition::all();
        }
        // The change's customers (`change_party` rows of kind CUSTOMER), narrowed by `also`.
        let customers_of_change = |also: Option<&[Uuid]>| {
            let mut select = Query::select();
            select
                .expr(Expr::val(1))
                .from(change_party::Entity)
                .and_where(
                    Expr::col((change_party::Entity, change_party::Column::ChangeId))
                        .equals((change_record::Entity, change_record::Column::Id)),
                )
                .and_where(change_party::Column::Kind.eq(change_party::CUSTOMER));
            if let Some(customers) = also {
                select.and_where(change_party::Column::PartyId.is_in(customers.iter().copied()));
            }
            select.to_owned()
        };
        let concerning = |customers: &[Uuid]| Expr::exists(customers_of_change(Some(customers)));
        let mut any = Condition::any();
        if !self.customers.is_empty() {
            let concerning_none = Expr::exists(customers_of_change(None)).not();
            any = any.add(concerning(&self.customers)).add(concerning_none);
        }
        match &self.agency {
            Some(AgencyReach::AllCustomers) => {
                any = any.add(change_record::Column::AccountId.is_not_null());
            }
            Some(AgencyReach::Customers(ids)) => {
                any = any.add(
                    Condition::all()
                        .add(change_record::Column::AccountId.is_not_null())
                        .add(concerning(ids)),
                );
            }
            None => {}
        }
        if any.is_empty() {
            return Condition::all().add(Expr::val(false));
        }
        any
    }

    /// Whether the caller sees a change concerning `customers`, about an object of
    /// `account_id` (if account-level): [`Scope::change_condition`] in memory, for the feed.
    pub fn sees_change(&self, customers: &[Uuid], account_id: Option<Uuid>) -> bool {
        if self.everything {
            return true;
        }
        let customer_level = !self.customers.is_empty()
            && (customers.is_empty() || customers.iter().any(|c| self.customers.contains(c)));
        let agency = match &self.agency {
            Some(AgencyReach::AllCustomers) => account_id.is_some(),
            Some(AgencyReach::Customers(ids)) => {
                account_id.is_some() && customers.iter().any(|c| ids.contains(c))
            }
            None => false,
        };
        customer_level || agency
    }

    /// Whether the caller reaches customer `id` at all (its own details, or as AGENCY its
    /// accounts): who may subscribe to a customer's changes.
    pub fn reaches_customer(&self, id: Uuid) -> bool {
        self.everything
            || self.customers.contains(&id)
            || match &self.agency {
                Some(AgencyReach::AllCustomers) => true,
                Some(AgencyReach::Customers(ids)) => ids.contains(&id),
                None => false,
            }
    }

    /// The customers of a customer-level caller (empty for others), to trim what a change
    /// shows of other customers.
    pub fn own_customers(&self) -> Option<&[Uuid]> {
        (!self.everything).then_some(self.customers.as_slice())
    }

    /// Rows of a child of `contact` (contact points, address links) the caller may see:
    /// those whose contact it may see. `contact_id` names the child's foreign key column.
    pub fn contact_child_condition(&self, contact_id: SimpleExpr) -> Condition {
        if self.everything {
            return Condition::all();
        }
        Condition::all().add(
            contact_id.in_subquery(
                Query::select()
                    .column(contact::Column::Id)
                    .from(contact::Entity)
                    .cond_where(self.contact_condition())
                    .to_owned(),
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(list: &[Role]) -> BTreeSet<Role> {
        list.iter().copied().collect()
    }

    #[test]
    fn admin_and_service_see_everything() {
        assert!(Scope::for_roles(&roles(&[Role::Admin]), None).is_everything());
        assert!(Scope::for_roles(&roles(&[Role::Service]), None).is_everything());
        assert!(!Scope::for_roles(&roles(&[Role::Customer]), None).is_everything());
    }

    #[test]
    fn agency_without_claim_reaches_all_customers() {
        let scope = Scope::for_roles(&roles(&[Role::Agency]), None);
        assert_eq!(scope.agency, Some(AgencyReach::AllCustomers));
        assert!(scope.customers.is_empty());
    }

    #[test]
    fn customers_claim_only_counts_for_customer_level_roles() {
        let id = Uuid::nil();
        let scope = Scope::for_roles(&roles(&[Role::Agency]), Some(&[id]));
        assert!(scope.customers.is_empty());
        assert_eq!(scope.agency, Some(AgencyReach::Customers(vec![id])));
        let scope = Scope::for_roles(&roles(&[Role::Delegate]), Some(&[id]));
        assert_eq!(scope.customers, vec![id]);
    }
}
