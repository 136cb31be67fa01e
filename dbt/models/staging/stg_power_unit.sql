-- ERS power (positive deploying, negative harvesting) and fuel.
select
    event_id,
    session_id,
    car_number,
    event_time_unix_ns as event_time_ns,
    mgu_k_power_kw,
    mgu_h_power_kw,
    ers_store_energy_kj,
    fuel_remaining_kg,
    validated_at
from {{ source('silver', 'power_unit') }}
