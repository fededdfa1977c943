//! Dated changes of a service's count (`docs/model.md`, "Capacity over
//! time"): PRU cars, frailty unit places, community teams, rehab beds, care
//! home beds and CRHT places change at 00:00 of the days their count
//! differs from the day before. A rise is used at once (the service's queue
//! is served); a fall takes nothing from anyone: a unit in use stays in use
//! until its patient is done with it, and no new patient takes a unit while
//! the units in use are at or above the new count.

use super::{Event, Sim};
use crate::model::trace::{TraceEvent, Tracer};
use crate::model::years::Service;

impl<'p, T: Tracer> Sim<'p, T> {
    /// At time zero, after the bed capacity changes: an event at each 00:00
    /// a count changes, service by service in [`Service::ALL`] order.
    pub(super) fn start_service_capacity(&mut self) {
        for service in Service::ALL {
            let table = self.prepared.counts.table(service);
            for day in 1..table.len() {
                if table[day] != table[day - 1] {
                    self.at(
                        day as f64 * 24.0,
                        Event::ServiceCapacity {
                            service,
                            day: day as u32,
                        },
                    );
                }
            }
        }
    }

    #[cold]
    pub(super) fn on_service_capacity(&mut self, t: f64, service: Service, day: u32) {
        let count = self.prepared.counts.table(service)[day as usize];
        self.tracer.trace(TraceEvent::Capacity {
            at: t,
            service,
            count,
        });
        match service {
            Service::PruCars => self.pru.cars = count,
            Service::FrailtyUnitSlots => self.frailty_unit.slots = count,
            Service::CommunityTeams => {
                self.community.places =
                    u64::from(count) * u64::from(self.sc.community.caseload_per_team);
                self.fill_community_places(t);
            }
            Service::RehabBeds => {
                self.rehab.beds = count;
                self.fill_rehab_beds(t);
            }
            Service::CareHomeBeds => {
                self.care_homes.beds = count;
                // The free beds are those below the count that nobody holds,
                // lowest index taken first.
                self.ws.care_home_free.clear();
                for b in (0..count).rev() {
                    if !self.ws.care_home_beds[b as usize].held {
                        self.ws.care_home_free.push(b);
                    }
                }
                self.fill_care_home_beds(t);
            }
            Service::CrhtPlaces => {
                self.mental_health.crht_places = count;
                self.fill_crht(t);
            }
            Service::HomeCarePackages => {
                self.home_care.packages = count;
                self.fill_home_care(t);
            }
        }
    }
}
