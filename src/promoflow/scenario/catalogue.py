"""The vocabulary of the seeded grocer: categories, product names, suppliers, regions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CategoryTemplate:
    """How to name, price and model the items of one category."""

    name: str
    department: str
    # (subcategory, product nouns in it)
    ranges: tuple[tuple[str, tuple[str, ...]], ...]
    adjectives: tuple[str, ...]
    sizes: tuple[str, ...]
    cost: tuple[float, float]
    case_pack: int
    volume: float  # relative weekly units per item-store
    elasticity: tuple[float, float]
    summer: float = 0.0
    holiday: float = 0.1
    restricted: bool = False
    restricted_subcategories: tuple[str, ...] = ()


# Ordered so the small scenario's first six categories already include a
# restricted one (Beer & Wine) and both seasonal extremes.
# fmt: off
CATEGORIES: tuple[CategoryTemplate, ...] = (
    CategoryTemplate(
        "Breakfast Cereal", "Grocery",
        (("Cereal", ("Oat Cereal", "Corn Flakes", "Rice Puffs")),
         ("Granola & Muesli", ("Granola", "Muesli", "Bran Flakes"))),
        ("Crunchy", "Honey", "Whole Grain", "Frosted", "Organic", "Chocolate"),
        ("375g", "500g", "750g"), (1.1, 3.2), 12, 1.0, (-2.4, -1.8), 0.0, 0.05,
    ),
    CategoryTemplate(
        "Soft Drinks", "Beverages",
        (("Cola", ("Cola", "Diet Cola")), ("Flavoured", ("Lemonade", "Orange Soda", "Ginger Ale"))),
        ("Classic", "Zero Sugar", "Sparkling", "Original", "Lime"),
        ("330ml x6", "1.5L", "2L"), (0.6, 2.8), 6, 1.6, (-2.8, -2.2), 0.35, 0.15,
    ),
    CategoryTemplate(
        "Snacks & Crisps", "Grocery",
        (("Crisps", ("Potato Crisps", "Kettle Chips")),
         ("Savoury", ("Tortilla Chips", "Pretzels"))),
        ("Sea Salt", "Cheese & Onion", "Sour Cream", "Sweet Chilli", "Barbecue", "Lightly Salted"),
        ("40g", "150g", "200g"), (0.4, 1.9), 24, 1.3, (-2.6, -2.0), 0.1, 0.2,
    ),
    CategoryTemplate(
        "Beer & Wine", "Beverages",
        (("Beer", ("Lager", "Pale Ale", "Stout")), ("Wine", ("Red Wine", "White Wine", "Rosé"))),
        ("Premium", "Craft", "Reserve", "Classic", "Estate"),
        ("4x440ml", "750ml", "6x330ml"), (3.0, 9.5), 6, 0.8, (-2.0, -1.5), 0.2, 0.4,
        restricted=True,
    ),
    CategoryTemplate(
        "Dairy & Yogurt", "Fresh",
        (("Milk", ("Whole Milk", "Semi-Skimmed Milk")),
         ("Yogurt", ("Greek Yogurt", "Fruit Yogurt"))),
        ("Farmhouse", "Organic", "Light", "Creamy", "Vanilla", "Strawberry"),
        ("500g", "1L", "2L"), (0.5, 2.2), 12, 2.2, (-1.9, -1.5), 0.0, 0.05,
    ),
    CategoryTemplate(
        "Laundry", "Household",
        (("Detergent", ("Laundry Liquid", "Washing Powder", "Laundry Pods")),
         ("Care", ("Fabric Softener", "Stain Remover"))),
        ("Bio", "Non-Bio", "Fresh Linen", "Colour", "Sensitive"),
        ("1L", "2L", "30 washes"), (2.0, 7.5), 6, 0.6, (-3.0, -2.4), 0.0, 0.0,
    ),
    CategoryTemplate(
        "Coffee & Tea", "Grocery",
        (("Coffee", ("Ground Coffee", "Coffee Beans", "Instant Coffee")),
         ("Tea", ("Breakfast Tea", "Green Tea", "Herbal Tea"))),
        ("Dark Roast", "Smooth", "Decaf", "Fairtrade", "Italian"),
        ("80 bags", "200g", "500g"), (1.5, 6.0), 12, 0.9, (-2.2, -1.7), -0.1, 0.1,
    ),
    CategoryTemplate(
        "Confectionery", "Grocery",
        (("Chocolate", ("Milk Chocolate Bar", "Dark Chocolate Bar", "Chocolate Buttons")),
         ("Sweets", ("Fruit Gums", "Mints", "Toffees"))),
        ("Luxury", "Mini", "Sharing", "Caramel", "Hazelnut"),
        ("45g", "100g", "350g"), (0.4, 3.5), 24, 1.4, (-2.5, -1.9), -0.1, 0.6,
    ),
    CategoryTemplate(
        "Pasta & Rice", "Grocery",
        (("Pasta", ("Spaghetti", "Penne", "Fusilli")),
         ("Rice", ("Basmati Rice", "Long Grain Rice"))),
        ("Durum Wheat", "Wholewheat", "Quick Cook", "Organic", "Italian"),
        ("500g", "1kg", "2kg"), (0.5, 2.4), 12, 1.1, (-2.2, -1.7), -0.05, 0.0,
    ),
    CategoryTemplate(
        "Canned Goods", "Grocery",
        (("Vegetables", ("Chopped Tomatoes", "Sweetcorn", "Kidney Beans")),
         ("Fish & Soup", ("Tuna Chunks", "Tomato Soup", "Baked Beans"))),
        ("Everyday", "Reduced Salt", "Organic", "Rich", "Classic"),
        ("400g", "4x400g", "160g"), (0.3, 2.0), 24, 1.2, (-2.0, -1.6), -0.15, 0.05,
    ),
    CategoryTemplate(
        "Biscuits & Cookies", "Grocery",
        (("Biscuits", ("Digestives", "Shortbread", "Rich Tea")),
         ("Cookies", ("Chocolate Chip Cookies", "Oat Cookies"))),
        ("Butter", "Milk Chocolate", "All Butter", "Oaty", "Double Choc"),
        ("200g", "300g", "400g"), (0.5, 2.5), 12, 1.2, (-2.4, -1.9), -0.05, 0.35,
    ),
    CategoryTemplate(
        "Ice Cream", "Frozen",
        (("Tubs", ("Ice Cream Tub", "Sorbet")), ("Sticks", ("Ice Lollies", "Choc Ices", "Cones"))),
        ("Vanilla", "Mint Choc Chip", "Salted Caramel", "Strawberry", "Cookie Dough"),
        ("500ml", "1L", "4 pack"), (1.2, 4.0), 6, 0.9, (-2.8, -2.2), 0.7, 0.05,
    ),
    CategoryTemplate(
        "Frozen Meals", "Frozen",
        (("Ready Meals", ("Lasagne", "Chicken Curry", "Cottage Pie")),
         ("Pizza", ("Stonebaked Pizza",))),
        ("Family", "Classic", "Spicy", "Vegetarian", "Hearty"),
        ("400g", "800g", "2 pack"), (1.5, 4.5), 6, 0.8, (-2.6, -2.0), -0.2, 0.0,
    ),
    CategoryTemplate(
        "Cheese", "Fresh",
        (("Hard Cheese", ("Mature Cheddar", "Red Leicester", "Parmesan")),
         ("Soft Cheese", ("Brie", "Cream Cheese", "Mozzarella"))),
        ("Extra Mature", "Mild", "Light", "Farmhouse", "Smoked"),
        ("200g", "400g", "125g"), (1.2, 4.2), 12, 1.0, (-2.0, -1.6), -0.05, 0.3,
    ),
    CategoryTemplate(
        "Bakery", "Fresh",
        (("Bread", ("White Loaf", "Wholemeal Loaf", "Sourdough")),
         ("Morning Goods", ("Croissants", "Bagels", "Crumpets"))),
        ("Farmhouse", "Seeded", "Soft", "Thick Sliced", "Artisan"),
        ("400g", "800g", "6 pack"), (0.4, 1.8), 12, 2.0, (-1.8, -1.5), 0.0, 0.1,
    ),
    CategoryTemplate(
        "Juices", "Beverages",
        (("Chilled Juice", ("Orange Juice", "Apple Juice", "Smoothie")),
         ("Squash", ("Orange Squash", "Blackcurrant Squash"))),
        ("Smooth", "With Bits", "No Added Sugar", "Pressed", "Tropical"),
        ("1L", "1.75L", "750ml"), (0.6, 2.8), 6, 1.1, (-2.3, -1.8), 0.25, 0.1,
    ),
    CategoryTemplate(
        "Cleaning", "Household",
        (("Surface", ("Multi-Surface Spray", "Bathroom Cleaner", "Bleach")),
         ("Dishwashing", ("Washing-Up Liquid", "Dishwasher Tablets"))),
        ("Lemon", "Original", "Antibacterial", "Eco", "Fresh Pine"),
        ("500ml", "750ml", "40 pack"), (0.8, 5.5), 12, 0.7, (-2.8, -2.2), 0.05, 0.0,
    ),
    CategoryTemplate(
        "Paper Goods", "Household",
        (("Tissue", ("Toilet Roll", "Kitchen Roll", "Facial Tissues")),),
        ("Soft", "Quilted", "Recycled", "Extra Strong", "Supreme"),
        ("4 pack", "9 pack", "2 pack"), (1.2, 6.0), 6, 0.9, (-2.7, -2.1), 0.0, 0.05,
    ),
    CategoryTemplate(
        "Personal Care", "Health & Beauty",
        (("Hair", ("Shampoo", "Conditioner")), ("Body", ("Shower Gel", "Deodorant", "Toothpaste"))),
        ("Fresh", "Sensitive", "Coconut", "Men's", "Whitening"),
        ("250ml", "400ml", "75ml"), (0.8, 4.0), 12, 0.7, (-2.9, -2.3), 0.1, 0.15,
    ),
    CategoryTemplate(
        "Pet Food", "Pet",
        (("Dog", ("Dog Food", "Dog Treats")), ("Cat", ("Cat Food", "Cat Litter"))),
        ("Chicken", "Beef", "Salmon", "Senior", "Grain Free"),
        ("400g", "12x100g", "2kg"), (0.8, 7.0), 12, 0.7, (-2.2, -1.7), 0.0, 0.1,
    ),
    CategoryTemplate(
        "Baby Care", "Health & Beauty",
        (("Nappies", ("Nappies", "Baby Wipes")), ("Infant Formula", ("First Infant Milk",))),
        ("Ultra Dry", "Sensitive", "Newborn", "Stage 1", "Stage 2"),
        ("40 pack", "800g", "64 pack"), (2.5, 9.0), 6, 0.5, (-2.2, -1.6), 0.0, 0.0,
        restricted_subcategories=("Infant Formula",),
    ),
    CategoryTemplate(
        "Baking", "Grocery",
        (("Flour & Sugar", ("Plain Flour", "Caster Sugar", "Icing Sugar")),
         ("Home Baking", ("Cake Mix", "Baking Chocolate"))),
        ("Fine", "Self-Raising", "Golden", "Organic", "Premium"),
        ("500g", "1kg", "1.5kg"), (0.5, 2.8), 12, 0.7, (-2.0, -1.6), -0.1, 0.5,
    ),
)
# fmt: on

REGIONS = (
    "North", "South", "East", "West", "Central",
    "Northeast", "Northwest", "Southeast", "Southwest", "Coastal",
)  # fmt: skip

SUPPLIER_NAMES = (
    "Northfield", "Brightwater", "Golden Valley", "Harbour", "Meadowbrook", "Summit",
    "Riverside", "Oakridge", "Bluebell", "Sunrise", "Highland", "Westbrook", "Silverleaf",
    "Evergreen", "Crescent", "Pinecrest", "Maple Lane", "Stonebridge", "Fairhaven", "Kingsway",
)  # fmt: skip

SUPPLIER_SUFFIXES = {
    "Grocery": "Foods",
    "Beverages": "Drinks Co.",
    "Fresh": "Dairies",
    "Frozen": "Frozen Foods",
    "Household": "Home Care",
    "Health & Beauty": "Health",
    "Pet": "Pet Nutrition",
}


def category_template(index: int) -> CategoryTemplate:
    """The template for the index-th category; beyond the list, numbered variants."""
    base = CATEGORIES[index % len(CATEGORIES)]
    if index < len(CATEGORIES):
        return base
    round_number = index // len(CATEGORIES) + 1
    return CategoryTemplate(
        f"{base.name} {round_number}", base.department, base.ranges, base.adjectives,
        base.sizes, base.cost, base.case_pack, base.volume, base.elasticity,
        base.summer, base.holiday, base.restricted, base.restricted_subcategories,
    )  # fmt: skip


def region_name(index: int) -> str:
    """Name of the index-th region."""
    return REGIONS[index] if index < len(REGIONS) else f"Region {index + 1}"


def supplier_brand(index: int) -> str:
    """Brand (and first word of the company name) of the index-th supplier."""
    base = SUPPLIER_NAMES[index % len(SUPPLIER_NAMES)]
    return base if index < len(SUPPLIER_NAMES) else f"{base} {index // len(SUPPLIER_NAMES) + 1}"
