//! The people the box knows: listing them in Vietnamese order, adding them one by one, and
//! (in `import`) from a member list.

use super::{Caller, Refusal, ServiceError};
use crate::domain::person::{sort_by_name, PersonName, Phone, Position, Unit};
use crate::domain::records::{Id, Person};
use crate::domain::{EventBody, Role};
use crate::store::{records, Store};

/// A person as the secretary's list shows them.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub person: Person,
    pub devices: usize,
    pub has_pin: bool,
}

pub fn list(store: &Store, caller: &Caller) -> Result<Vec<PersonRow>, ServiceError> {
    caller.require(Role::may_read_people)?;
    let rows = store.read(|txn| {
        let mut people = records::people(txn)?;
        sort_by_name(&mut people, |p| &p.name);
        people
            .into_iter()
            .map(|person| {
                let devices = records::devices_of(txn, &person.id)?
                    .iter()
                    .filter(|d| d.revoked_at.is_none())
                    .count();
                let has_pin = records::has_pin(txn, &person.id)?;
                Ok(PersonRow {
                    person,
                    devices,
                    has_pin,
                })
            })
            .collect()
    })?;
    Ok(rows)
}

/// What the add form and each import row carry, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub name: String,
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub phone: String,
}

/// Builds a person record from typed input, each field parsed.
pub fn parse(input: &NewPerson) -> Result<Person, ServiceError> {
    Ok(Person {
        id: Id::random(),
        name: PersonName::parse(&input.name)?,
        position: Position::parse(&input.position)?,
        unit: Unit::parse(&input.unit)?,
        phone: Phone::parse(&input.phone)?,
    })
}

/// Two records are the same person when the names match (ignoring case and spacing) and the
/// phones match, or neither has a phone.
pub fn same_person(a: &Person, b: &Person) -> bool {
    a.name.matching_key() == b.name.matching_key() && a.phone == b.phone
}

pub fn add(store: &Store, caller: &Caller, input: &NewPerson) -> Result<Person, ServiceError> {
    caller.require(Role::may_manage_meetings)?;
    let person = parse(input)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let existing = tx.read(records::people)?;
        if existing.iter().any(|p| same_person(p, &person)) {
            return Err(Refusal::PersonDuplicate.into());
        }
        Ok((
            vec![EventBody::PersonAdded {
                person: (&person).into(),
            }],
            (),
        ))
    })?;
    Ok(person)
}
