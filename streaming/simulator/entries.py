"""The entry list: car numbers, drivers and teams, two cars per team, drawn deterministically from a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass

_TEAMS = [
    "Scuderia Rossa",
    "Silver Arrow Racing",
    "Papaya Motorsport",
    "Bull Energy Racing",
    "Emerald Racing",
    "Alpine Blue",
    "Grove Williams",
    "Haas Sport",
    "Visa Junior Team",
    "Sauber Audi",
    "Monza Corse",
    "Brackley Works",
    "Enstone Engineering",
    "Woking Racing",
    "Maranello Junior",
    "Milton Keynes Racing",
    "Hinwil Motorsport",
    "Faenza Corse",
    "Silverstone Racing",
    "Kannapolis Speed",
    "Imola Racing",
    "Spa Racing Team",
    "Suzuka Motorsport",
    "Interlagos Racing",
    "Barcelona Racing",
]
_FIRST = [
    "Max",
    "Lewis",
    "Charles",
    "Lando",
    "Oscar",
    "George",
    "Carlos",
    "Fernando",
    "Pierre",
    "Esteban",
    "Alex",
    "Yuki",
    "Nico",
    "Lance",
    "Valtteri",
    "Kimi",
    "Oliver",
    "Liam",
    "Gabriel",
    "Isack",
    "Jack",
    "Franco",
    "Andrea",
    "Mick",
    "Felipe",
    "Zhou",
    "Logan",
    "Nyck",
    "Theo",
    "Jake",
]
_LAST = [
    "Verstappen",
    "Hamilton",
    "Leclerc",
    "Norris",
    "Piastri",
    "Russell",
    "Sainz",
    "Alonso",
    "Gasly",
    "Ocon",
    "Albon",
    "Tsunoda",
    "Hulkenberg",
    "Stroll",
    "Bottas",
    "Antonelli",
    "Bearman",
    "Lawson",
    "Bortoleto",
    "Hadjar",
    "Doohan",
    "Colapinto",
    "Kimi",
    "Schumacher",
    "Drugovich",
    "Guanyu",
    "Sargeant",
    "Vries",
    "Pourchaire",
    "Dennis",
    "Martins",
    "Fornaroli",
    "Browning",
    "Crawford",
    "Maloney",
    "Verschoor",
]


@dataclass(frozen=True)
class Entry:
    car_number: int
    driver_code: str
    driver_name: str
    team: str


def entry_list(cars: int, seed: int) -> list[Entry]:
    if not 1 <= cars <= 98:
        raise ValueError("the simulator takes 1 to 98 cars (car numbers 2-99)")
    rng = random.Random(seed)
    numbers = rng.sample(range(2, 100), cars)
    entries, codes = [], set()
    for i, number in enumerate(numbers):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        code = last[:3].upper()
        suffix = 0
        while code in codes:  # driver codes are unique within a session
            suffix += 1
            code = (last[:2] + "XYZQWKJV"[suffix % 8]).upper()
            if suffix > 8:
                code = f"{last[0].upper()}{number:02d}"
        codes.add(code)
        entries.append(Entry(number, code, f"{first} {last}", _TEAMS[(i // 2) % len(_TEAMS)]))
    return entries
