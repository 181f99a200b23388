"""JSON bodies of a character's equipment and specializations (the profile namespace).

Shaped on Blizzard's published answers of `/profile/wow/character/{realm}/{name}/equipment`
and `.../specializations` (samples in tests/fixtures/bnet-samples/). What a character wears
derives from its id and item level, its talents from its id and spec: an admin PUT that
changes `item_level` changes the gear (and moves the character's Last-Modified), one that
changes `spec_id` changes the talents.
"""

from __future__ import annotations

from .data import Character, h
from .gamedata import CLASSES
from .shapes import Hrefs, Json, character_path

#: (slot type, slot name, item name stem); SHIRT and TABARD are cosmetic (no item level).
SLOTS = (
    ("HEAD", "Head", "Hood"), ("NECK", "Neck", "Choker"), ("SHOULDER", "Shoulders", "Mantle"),
    ("SHIRT", "Shirt", "Shirt"), ("CHEST", "Chest", "Robe"), ("WAIST", "Waist", "Cord"),
    ("LEGS", "Legs", "Leggings"), ("FEET", "Feet", "Treads"), ("WRIST", "Wrist", "Bindings"),
    ("HANDS", "Hands", "Gloves"), ("FINGER_1", "Ring 1", "Signet"),
    ("FINGER_2", "Ring 2", "Band"), ("TRINKET_1", "Trinket 1", "Idol"),
    ("TRINKET_2", "Trinket 2", "Charm"), ("BACK", "Back", "Cloak"),
    ("MAIN_HAND", "Main Hand", "Blade"), ("TABARD", "Tabard", "Tabard"),
)  # fmt: skip
_ENCHANTED = {"BACK", "CHEST", "WRIST", "LEGS", "FEET", "FINGER_1", "FINGER_2", "MAIN_HAND"}
_SOCKETED = {"NECK", "FINGER_1", "FINGER_2", "HEAD", "WRIST", "WAIST"}
_SET_SLOTS = {"HEAD", "SHOULDER", "CHEST", "HANDS", "LEGS"}
_QUALITIES = {"EPIC": "Epic", "RARE": "Rare", "COMMON": "Common"}


def _item(hr: Hrefs, char: Character, index: int, slot: tuple[str, str, str]) -> Json:
    kind, label, stem = slot
    item_id = 200_000 + h("item", char.id, char.item_level, kind) % 20_000
    cosmetic = kind in ("SHIRT", "TABARD")
    quality = "COMMON" if cosmetic else ("EPIC" if char.item_level % 2 == 0 else "RARE")
    item: Json = {
        "item": {**hr.key(f"/data/wow/item/{item_id}", "static"), "id": item_id},
        "slot": {"type": kind, "name": label},
        "quantity": 1,
        "context": 6,
        "bonus_list": [10_000 + h("bonus", item_id) % 900],
        "quality": {"type": quality, "name": _QUALITIES[quality]},
        "name": f"{stem} of the {('Dawn', 'Tide', 'Ember', 'Gale')[item_id % 4]}",
        "media": {**hr.key(f"/data/wow/media/item/{item_id}", "static"), "id": item_id},
        "inventory_type": {"type": kind.split("_")[0], "name": label},
        "binding": {"type": "ON_ACQUIRE", "name": "Binds when picked up"},
    }
    if not cosmetic:
        level = char.item_level + (index % 3) - 1
        item["level"] = {"value": level, "display_string": f"Item Level {level}"}
    if kind in _ENCHANTED:
        enchant = 7_300 + h("enchant", char.id, kind) % 200
        item["enchantments"] = [
            {
                "display_string": f"Enchanted: +{enchant % 90 + 10} Stamina",
                "enchantment_id": enchant,
                "enchantment_slot": {"id": 0, "type": "PERMANENT"},
            }
        ]
    if kind in _SOCKETED:
        gem = 213_400 + h("gem", char.id, kind) % 80
        item["sockets"] = [
            {
                "socket_type": {"type": "PRISMATIC", "name": "Prismatic Socket"},
                "item": {
                    **hr.key(f"/data/wow/item/{gem}", "static"),
                    "name": "Quick Ruby",
                    "id": gem,
                },
                "display_string": "+147 Haste",
            }
        ]
    if kind in _SET_SLOTS and char.level >= 70:
        set_id = 1_600 + char.class_id
        item["set"] = {
            "item_set": {
                **hr.key(f"/data/wow/item-set/{set_id}", "static"),
                "name": f"Regalia of Set {set_id}",
                "id": set_id,
            },
            "display_string": f"Regalia of Set {set_id} (5/5)",
        }
    return item


def character_equipment(hr: Hrefs, char: Character, character: Json) -> Json:
    return {
        "_links": hr.self_link(f"{character_path(char)}/equipment"),
        "character": character,
        "equipped_items": [_item(hr, char, i, slot) for i, slot in enumerate(SLOTS)],
    }


def _talents(hr: Hrefs, char: Character, tree: str, count: int) -> list[Json]:
    picked = []
    for k in range(count):
        node = 80_000 + h("talent", char.id, char.spec_id, tree, k) % 20_000
        talent = 100_000 + node % 50_000
        picked.append(
            {
                "id": node,
                "rank": 1 + k % 2,
                "tooltip": {
                    "talent": {
                        **hr.key(f"/data/wow/talent/{talent}", "static"),
                        "name": f"{tree.title()} Talent {talent}",
                        "id": talent,
                    },
                    "spell_tooltip": {
                        "spell": {"name": f"Spell {talent}", "id": talent + 300_000},
                        "description": "Increases your mastery.",
                        "cast_time": "Passive",
                    },
                },
            }
        )
    return picked


def character_specializations(hr: Hrefs, char: Character, character: Json) -> Json:
    specs = CLASSES[char.class_id].specs if char.class_id in CLASSES else ()
    entries = []
    for spec_id, spec_name in specs:
        code = f"C{h('loadout', char.id, spec_id):016X}AAAAAAAAAAAAA"
        entries.append(
            {
                "specialization": hr.ref(
                    f"/data/wow/playable-specialization/{spec_id}", "static", spec_name, spec_id
                ),
                "loadouts": [
                    {
                        "is_active": spec_id == char.spec_id,
                        "talent_loadout_code": code,
                        "selected_class_talents": _talents(hr, char, "class", 3),
                        "selected_spec_talents": _talents(hr, char, "spec", 3),
                        "selected_hero_talents": _talents(hr, char, "hero", 2),
                    }
                ],
            }
        )
    active = dict(specs).get(char.spec_id, "")
    return {
        "_links": hr.self_link(f"{character_path(char)}/specializations"),
        "specializations": entries,
        "active_specialization": hr.ref(
            f"/data/wow/playable-specialization/{char.spec_id}", "static", active, char.spec_id
        ),
        "character": character,
    }
