#!/usr/bin/env python3
"""Write the bundled sample datasets in rlhf_playground/samples/ (all text written by this project).

    python scripts/make_samples.py            # (re)write the four files, byte for byte the same each run
    python scripts/make_samples.py --check    # also validate them and measure how separable the pairs are

Standard library only, fixed seeds. The data section below holds every template and topic; the
functions after it only combine them.
"""

import argparse
import csv
import json
import math
import random
import re
from pathlib import Path

SEED = 1207
OUT = Path(__file__).resolve().parent.parent / "rlhf_playground" / "samples"

# ------------------------------------------------------------------------------------------------
# Data: prompts
# ------------------------------------------------------------------------------------------------
# Subjects by kind; each kind has its own sentence templates so the prompts read naturally.
EXPERIENCES = """your first day at a new job | a long train journey | waiting for a delayed flight
learning to ride a bike | moving to a new flat | a rainy Sunday at home | cooking dinner for friends
a visit to the dentist | your morning commute | a weekend camping trip | the last day of a holiday
a job interview | meeting your new neighbours | a walk in the park after work | painting your bedroom
a long queue at the post office | baking bread for the first time | a power cut in the evening
a birthday dinner at a restaurant | a day at the beach | the weekly trip to the supermarket
taking the dog to the vet | starting a new hobby | a school reunion | an afternoon at the museum
a football match in the rain | a cooking class | a summer music festival | a quiet evening of reading
a road trip with friends | a morning run by the river | a visit to your grandparents""".replace("\n", " | ")
PLACES = """the weather in a seaside town in autumn | a busy market on a Saturday morning
a small cafe on a quiet street | a train station at rush hour | a city park in spring
a mountain village in winter | an airport late at night | a library on a weekday afternoon
a campsite by a lake | a crowded football stadium | a street food stall at night | an old bookshop
a garden after the rain | a hotel lobby | a country road in summer | an office on a Monday morning
a fishing harbour at dawn | a supermarket just before closing | a city centre in the snow
a beach in winter | a cinema before the film starts | a farmers' market in late summer
a gym in January | a bakery early in the morning | a bus ride across the city | a river in the fog
a playground on a sunny day | a record shop on a weekday | a hospital waiting room""".replace("\n", " | ")
THINGS = """the film about a lost dog | the new pizza place near the station
the novel about a lighthouse keeper | a cheap pair of running shoes | the latest album from a local band
a documentary about bees | a hotel room with a sea view | the sequel to a famous space film
a cookbook for beginners | a board game for four players | a budget smartphone
a comedy series about office life | a vegetarian restaurant in the city centre | the new bus timetable
a museum about old trains | a detective novel set in Scotland | the cafe's new breakfast menu
a travel guide to Japan | a yoga class for beginners | an electric bike | a play about two sisters
a podcast about history | a cat cafe | a jazz concert in the park | the football club's new coach
a pair of noise-cancelling headphones | a science fiction short story | a family-run Italian restaurant
a camping tent for two | a children's film about dragons | a new coffee machine
a graphic novel about a robot | the hotel breakfast buffet | a week-long cruise
a mystery film set on a train | a gardening magazine | a fitness app | a second-hand bookshop
a weekend baking course | a video game about running a farm""".replace("\n", " | ")
KIND_TEMPLATES = {
    "experience": [
        "Write two sentences about {s}.",
        "Describe {s}.",
        "Tell me about {s}.",
        "Write a short diary entry about {s}.",
        "Write a few lines about {s}.",
        "How would you describe {s}?",
    ],
    "place": [
        "Describe {s}.",
        "Write two sentences about {s}.",
        "Write a short paragraph describing {s}.",
        "In a few words, describe {s}.",
        "Use a few vivid words to describe {s}.",
        "Tell me about {s}.",
    ],
    "thing": [
        "Tell me what you think of {s}.",
        "Write a short review of {s}.",
        "Give your honest opinion of {s}.",
        "Write two sentences about {s}.",
        "What is your opinion of {s}?",
        "Share your thoughts on {s}.",
    ],
}
STANDALONE_PROMPTS = [
    "Continue the story: The train was late again, and",
    "Finish this sentence: The best thing about Sundays is",
    "Complete the sentence: My neighbour's dog",
    "Continue: When I opened the fridge this morning,",
    "Write the next line: The restaurant was almost empty when we arrived.",
    "Continue the story: The letter had been under the door for a week.",
    "Finish this sentence: Working from home means",
    "Complete the sentence: The weather this week has been",
    "Continue: On the first morning of the holiday,",
    "Finish this sentence: The last book I read",
    "What should I cook for dinner tonight?",
    "What's a good book to take on holiday?",
    "How do you feel about rainy days?",
    "Is it worth learning the piano as an adult?",
    "What do you think about working from home?",
    "What makes a good neighbour?",
    "Which is better for a flat, a cat or a dog?",
    "What's a nice way to spend a free afternoon?",
    "What do you think of people who cycle to work?",
    "Is it better to travel by train or by plane?",
    "What do you think of winter?",
    "How was your weekend?",
    "What is your opinion of fast food?",
    "Tell me about a hobby that anyone can start.",
    "What do you think of open-plan offices?",
    "Describe a perfect Saturday in two sentences.",
    "What's your view on reading e-books?",
    "Give me a short opinion on city bikes.",
    "Say something about Monday mornings.",
    "Write one sentence about the smell of fresh coffee.",
]
# (template, how many rows) for each course-style marker form; {p} is the plain prompt.
MARKER_FORMS = {
    "input": ["Input= {p}", "Input= {p}\nOutput=", "Respond to the input.\nInput= {p}\nOutput="],
    "text": ["{{{{Text}}}}: {p}", "Reply to the text below.\n{{{{Text}}}}: {p}"],
    "hash": ["###Human: {p} ###Assistant:", "Below is a conversation. ###Human: {p} ###Assistant:"],
    "hh": ["\n\nHuman: {p}\n\nAssistant:"],
}
UGLY_FORMS = [
    "Input=    {p}   \nOutput=",
    "  {{{{Text}}}}:{p}  ",
    "###Human:   {p}   ###Assistant:  ",
    "\n\nHuman:  {p} \n\nAssistant: ",
    "\tInput=\t{p}",
    "{{{{Text}}}}:    {p}\n",
    "   ###Human:{p}###Assistant:",
    "\n\n\nHuman: {p}  \n\nAssistant:\n",
]

# ------------------------------------------------------------------------------------------------
# Data: preference pairs. "@ topic | question | question", "+ good advice", "- careless advice".
# ------------------------------------------------------------------------------------------------
CHAT_ITEMS = """
@ cooking rice | How do I cook rice so it doesn't come out sticky? | What's the trick to fluffy rice on the stove?
+ Rinse the rice in cold water until it runs clear; that washes off the loose starch that makes it gummy.
+ For long-grain rice use about 1.5 cups of water per cup of rice, bring it to a boil, then cover and simmer on low for 15 minutes.
+ When it's done, leave the lid on off the heat for 5 minutes, then fluff it gently with a fork.
- Boil it hard in a splash of water for about three minutes and drain it, rice doesn't need more than that.
@ boiling eggs | How long should I boil eggs so the yolk is firm but not grey? | What's the best way to hard-boil eggs?
+ Lower the eggs into boiling water for 10 to 11 minutes, then move them straight into a bowl of ice water.
+ The grey ring comes from overcooking, so set a timer rather than guessing.
+ Eggs that are a week or so old peel more easily than very fresh ones.
- Boil them for about half an hour to be safe, with eggs the longer the better.
@ quick dinners | What's an easy dinner I can make in 20 minutes? | I'm tired after work, what can I cook quickly?
+ A vegetable stir-fry works well: slice what you have thinly, cook it on high heat for five minutes, and add soy sauce and garlic.
+ Pasta with canned tomatoes, garlic and olive oil is ready in the time it takes the pasta to boil.
+ An omelette with cheese and leftover vegetables takes about ten minutes and needs only one pan.
- Roast a whole turkey, it only takes a few minutes if you turn the oven all the way up.
@ storing herbs | How do I keep fresh herbs from wilting? | My basil goes limp in a day, how should I store it?
+ Treat soft herbs like basil and parsley like flowers: trim the stems and stand them in a glass of water.
+ Keep basil on the counter rather than in the fridge, because the cold turns its leaves black.
+ Hardy herbs such as rosemary and thyme last longest wrapped in a slightly damp paper towel in the fridge.
- Put them loose in the freezer door, they'll stay fresh and green for weeks.
@ baking without eggs | What can I use instead of eggs in baking? | I ran out of eggs, can I still make muffins?
+ For each egg you can use a quarter cup of mashed banana or applesauce in muffins and cakes.
+ A tablespoon of ground flaxseed mixed with three tablespoons of water and left for five minutes works as a binder.
+ Substitutes work best in recipes with one or two eggs; recipes that rely on many eggs, like souffles, rarely work without them.
- Just leave the eggs out and add nothing else, the cake won't notice.
@ watering tomatoes | How often should I water my tomato plants? | My tomato leaves are drooping, am I watering them right?
+ Water deeply two or three times a week so the soil is moist several inches down, rather than a little every day.
+ Water at the base of the plant in the morning and keep the leaves dry to lower the risk of disease.
+ A layer of mulch such as straw helps the soil hold moisture during hot spells.
- Water them every hour and spray the leaves at night, tomatoes love being soaking wet.
@ growing herbs | I want to grow herbs on my balcony, where do I start? | Which herbs are easy for a beginner to grow?
+ Start with forgiving herbs like mint, chives, parsley and basil, which all grow well in pots.
+ Most herbs need at least six hours of sun a day, so pick the brightest spot you have.
+ Use pots with drainage holes, and give mint its own pot because it spreads quickly.
- Plant them all together in one pot with no drainage holes and keep it in a dark corner.
@ houseplant care | Why are the leaves on my houseplant turning yellow? | My houseplant has yellow leaves, what am I doing wrong?
+ The most common cause is overwatering, so let the top inch of soil dry out before you water again.
+ Check that the pot drains freely, because roots sitting in water rot and turn the leaves yellow.
+ If the plant lives in a dark spot, moving it closer to a bright window often helps.
- Yellow leaves always mean it's thirsty, so water it every day until they turn green again.
@ composting | How do I start composting at home? | What can I put in a compost bin?
+ Mix green material like vegetable scraps and grass cuttings with brown material like dry leaves and cardboard, about one part green to two parts brown.
+ Keep meat, dairy and oily food out of the bin, since they smell and attract pests.
+ Turn the pile every week or two and keep it about as damp as a wrung-out sponge.
- Throw in meat and bones as well, they break down fastest and make the best compost.
@ packing | How can I pack light for a week-long trip? | Any tips for travelling with only a carry-on bag?
+ Choose clothes in two or three colours that all go together, so a few pieces make many outfits.
+ Roll your clothes instead of folding them, and wear your bulkiest shoes and jacket on the plane.
+ Plan to do laundry once, which lets you pack for three or four days instead of seven.
- Bring a different outfit for every day plus spares, airlines never check bag sizes anyway.
@ jet lag | How do I deal with jet lag after a long flight? | What's the best way to recover from jet lag?
+ Switch to the local schedule as soon as you land, eating and sleeping at local times.
+ Get outside in daylight in the morning, since light is the strongest signal for resetting your body clock.
+ If you need a nap, keep it under 30 minutes so you can still sleep at night.
- Sleep all day when you arrive and stay up all night, your body sorts itself out.
@ cheap flights | How can I find cheaper flights? | Any tricks for booking flights without overpaying?
+ Be flexible with your dates: flying midweek is often cheaper than on a Friday or Sunday.
+ Use a fare comparison site and set a price alert for your route so you can book when it drops.
+ Compare the total price including baggage, because a cheap fare can cost more once you add a suitcase.
- Always buy your ticket at the airport on the day, that's when fares are cheapest.
@ phones abroad | How can I use my phone abroad without a huge bill? | Will my phone work when I travel to another country?
+ Ask your provider about a travel add-on before you leave; it's usually much cheaper than standard roaming rates.
+ A local SIM card or an eSIM data plan is often the cheapest option for trips longer than a few days.
+ Download offline maps and keep data roaming off until you've sorted out a plan.
- Just leave roaming on and use it as normal, providers never charge extra abroad.
@ exam revision | What's a good way to study for exams? | How can I remember more of what I study?
+ Test yourself instead of rereading: close the book, write down what you remember, then check.
+ Spread your revision over several days, since short sessions spaced apart beat one long cram.
+ Explaining a topic out loud, as if teaching a friend, quickly shows which parts you don't understand yet.
- Just reread your notes the night before and stay up as late as you can, that's how memory works.
@ concentration | I can't concentrate when I study, what can I do? | How do I stop getting distracted while studying?
+ Try the Pomodoro method: work for 25 minutes, take a 5 minute break, and repeat.
+ Put your phone in another room or use an app blocker while you work.
+ Write down one clear goal for each session, such as finishing ten practice questions.
- Study with the TV on and your phone in your hand, multitasking makes you learn faster.
@ note-taking | How should I take notes in lectures? | Any tips for better lecture notes?
+ Don't try to write everything down; note the main ideas, the examples and anything the lecturer repeats.
+ Leave space on each page so you can add questions and a short summary when you review.
+ Go over your notes within a day, while the lecture is still fresh in your mind.
- Copy every word the lecturer says and never look at the notes again afterwards.
@ language learning | What's the best way to learn a new language? | How can I learn Spanish faster?
+ Practise a little every day; fifteen minutes daily works better than two hours once a week.
+ Learn the most common words first and review them with spaced-repetition flashcards.
+ Listen to podcasts or shows in the language, and start speaking early even if you make mistakes.
- Memorise the whole dictionary first, you shouldn't speak a word until you know them all.
@ running | How should I start running if I've never done it? | I want to take up running, any advice for a beginner?
+ Start with run-walk intervals, for example one minute of running and two minutes of walking, for 20 minutes.
+ Go slowly enough that you could hold a conversation; most beginners run too fast.
+ Increase your weekly distance gradually, by about ten percent a week, to avoid injury.
- Run as far and as fast as you can on the first day, pain means it's working.
@ warming up | Should I stretch before working out? | What's a good warm-up before exercise?
+ Do a dynamic warm-up of five to ten minutes, like brisk walking, leg swings and arm circles.
+ Save long static stretches for after the workout, when your muscles are warm.
+ Start your main exercise at an easy pace and build up over the first few minutes.
- Never warm up, cold muscles are stronger and you save time.
@ home workouts | How can I work out at home without equipment? | What's a good home workout if I don't have a gym?
+ A circuit of squats, push-ups, lunges and planks, 40 seconds each with short rests, works the whole body.
+ Do the circuit three times, two or three days a week, and add repetitions as it gets easier.
+ If push-ups are too hard, do them with your hands on a sturdy table or with your knees on the floor.
- You can't get fit without a gym, so there's no point trying at home.
@ drinking water | How do I know if I'm drinking enough water? | How much water should I drink each day?
+ A simple check is the colour of your urine: pale yellow usually means you're drinking enough.
+ Keep a refillable bottle with you and have a glass of water with every meal.
+ Drink more on hot days and when you exercise, since you lose water through sweat.
- You only need water when you feel dizzy, thirst isn't a real signal.
@ computer problems | My laptop is really slow, what can I do? | How can I speed up my old computer?
+ Restart it and close programs you aren't using, especially browser tabs, which use a lot of memory.
+ Check which apps start automatically when you log in and turn off the ones you don't need.
+ Keep at least 10 to 15 percent of your disk free, and install any pending updates.
- Slow laptops are always caused by viruses, so delete random system files until it speeds up.
@ passwords | How do I make a strong password? | What makes a password secure?
+ Use a long passphrase of four or more unrelated words, which is both strong and easy to remember.
+ Use a different password for every account and let a password manager remember them for you.
+ Turn on two-factor authentication wherever it's offered for an extra layer of protection.
- Use the same short password everywhere, like your pet's name, so you never forget it.
@ photo backups | How should I back up my photos? | What's the best way to keep my photos safe?
+ Follow the 3-2-1 rule: three copies, on two different kinds of storage, with one kept somewhere else.
+ Turn on automatic cloud backup on your phone so new photos are saved without you thinking about it.
+ Every few months, copy everything to an external drive as well.
- Keeping them on your phone is enough, phones never get lost or broken.
@ Wi-Fi | My Wi-Fi is weak in some rooms, how can I fix it? | How do I improve my home Wi-Fi signal?
+ Put the router in a central, raised spot, away from thick walls, metal and the microwave.
+ Restart the router and check for firmware updates on its settings page.
+ In a large home, a mesh system or a range extender can cover the dead spots.
- Wrap the router in foil and hide it in a cupboard, that focuses the signal.
@ cover letters | How do I write a good cover letter? | What should go in a cover letter?
+ Address it to a named person if you can, and say in the first line which job you're applying for.
+ Pick two or three achievements that match the job ad and give a concrete example for each.
+ Keep it under one page and finish by saying you'd welcome the chance to talk further.
- Send the same long letter to every job and list every job you've ever had.
@ essay writing | I'm stuck writing my essay, how do I get started? | How do I get past writer's block?
+ Write a rough outline with one line per paragraph, then fill in the easiest section first.
+ Give yourself permission to write a bad first draft; you can fix it when you edit.
+ Set a timer for 15 minutes and write without stopping or deleting anything.
- Wait until inspiration strikes, even if that means missing the deadline.
@ asking for an extension | How do I politely ask my teacher for an extension? | How should I word an email asking for more time on an assignment?
+ Ask early, before the deadline, and keep the email short and specific.
+ Explain the reason briefly and propose a new date, for example two or three days later.
+ Thank them for considering it and mention what you've already completed.
- Email an hour after the deadline and don't suggest a date, they'll work it out.
@ budgeting | How do I make a monthly budget? | I never know where my money goes, how do I start budgeting?
+ List your monthly income, then track every expense for a month to see where the money actually goes.
+ A simple starting point is the 50/30/20 rule: half for needs, 30 percent for wants and 20 percent for savings.
+ Review the budget at the end of each month and adjust the categories that keep going over.
- Don't bother tracking anything, just spend until the card is declined.
@ emergency funds | How much should I keep in an emergency fund? | Is an emergency fund really worth having?
+ A common goal is three to six months of essential expenses, kept in an easy-access savings account.
+ Start small: even a first target of one month's rent makes surprises much less stressful.
+ Set up an automatic transfer on payday so the saving happens before you can spend it.
- Keep your emergency fund in lottery tickets, they can multiply your money quickly.
@ grocery shopping | How can I spend less on groceries? | Any tips for cutting my food bill?
+ Plan your meals for the week and shop with a list, which cuts down on impulse buys.
+ Compare the unit price on the shelf label rather than the price of the package.
+ Cook larger batches and freeze portions for busy days.
- Go shopping when you're really hungry, you'll buy the right things by instinct.
@ puppy training | How do I stop my puppy from biting? | My puppy nips at my hands, what should I do?
+ When the puppy bites, stop playing for a moment and offer a chew toy instead.
+ Reward calm behaviour with treats and praise so it learns what you do want.
+ Keep training sessions short, five minutes a few times a day, and make sure everyone at home uses the same rules.
- Shout at it and tap its nose hard, puppies learn best through fear.
@ cats | How do I help a new cat settle in? | I just adopted a cat and it keeps hiding, is that normal?
+ Start it off in one quiet room with food, water, a litter tray and somewhere to hide.
+ Let the cat come to you: sit quietly nearby and offer treats rather than picking it up.
+ Hiding for a few days is normal, and most cats begin exploring within a week or two.
- Pull it out of its hiding place and carry it round the whole house so it gets used to things.
@ dog food | What human foods are dangerous for dogs? | Can I give my dog leftovers from dinner?
+ Chocolate, grapes, raisins, onions, garlic and the sweetener xylitol can all be toxic to dogs.
+ If your dog eats one of these, call your vet straight away rather than waiting for symptoms.
+ Plain cooked chicken, carrot sticks and apple slices without the seeds make safe treats.
- Dogs can eat anything people eat, chocolate is actually good for them.
@ goldfish | How do I look after a goldfish? | What does a goldfish need to stay healthy?
+ Goldfish need more room than people expect: a filtered tank of at least 75 litres for one or two fish.
+ Change about a quarter of the water every week, using dechlorinated water at the same temperature.
+ Feed a small pinch once or twice a day, only as much as they finish in two minutes.
- A small bowl of tap water is perfect, and you only need to change it once a year.
"""
TRANSCRIPT_ITEMS = """
@ door hinges | How do I fix a squeaky door hinge? | my bedroom door squeaks every time i open it, how do i stop it
+ Lift the hinge pin out, wipe it clean, coat it with a little petroleum jelly or silicone spray, and tap it back in.
+ If the pin won't come out, spray lubricant into the top of the hinge and swing the door back and forth a few times.
- Squeaks go away by themselves if you slam the door harder for a week.
@ sleep | I keep waking up tired, how can I sleep better? | how do i fall asleep faster at night
+ Go to bed and get up at the same time every day, weekends included.
+ Keep the bedroom cool, dark and quiet, and put screens away about an hour before bed.
+ Avoid caffeine after early afternoon, since it stays in your system for hours.
- Have a big strong coffee right before bed, it relaxes you.
@ job interviews | How should I prepare for a job interview? | I have an interview on Friday, what should I do to get ready?
+ Research the company and prepare two or three stories about your work using the situation, task, action, result structure.
+ Practise answering common questions out loud, such as why you want this particular role.
+ Prepare a couple of questions to ask at the end, for example about the team or the first few months in the job.
- Don't prepare anything, interviewers prefer it when you make things up on the spot.
@ stains | How do I get a coffee stain out of a shirt? | i spilled coffee on my white shirt, can it be saved
+ Blot it straight away with cold water; don't rub, because rubbing spreads the stain.
+ Work a little dish soap or laundry detergent into the spot, leave it five minutes, then rinse and wash as usual.
+ Check the stain has gone before drying, because the heat of a dryer can set it.
- Pour boiling water and neat bleach on it, that gets every stain out of any fabric.
@ moving house | What's the best way to organise a house move? | we are moving next month, how do i make it less stressful
+ Start packing the rooms you use least a few weeks ahead, and label each box with its room and contents.
+ Keep an essentials box with chargers, medicines, a kettle and bedding for the first night.
+ Book the movers or a van early, especially for weekends and the end of the month.
- Pack everything the night before, moving never takes long.
@ bike care | How do I look after my bike? | what maintenance does a bicycle need
+ Check the tyre pressure every week; the recommended range is printed on the side of the tyre.
+ Clean and oil the chain every few weeks, and wipe off the extra oil so it doesn't collect grit.
+ Test both brakes before every ride.
- Put oil on the brake pads so the wheels spin more freely.
@ coffee | How can I make better coffee at home? | my coffee at home always tastes bitter, what am i doing wrong
+ Use freshly ground beans and about 60 grams of coffee per litre of water as a starting ratio.
+ Water just off the boil, around 93 degrees Celsius, extracts the flavour without scorching the coffee.
+ Store the beans in an airtight container away from light and heat.
- Use stale pre-ground coffee with boiling water and let it stew for an hour.
@ hiking | What should I know before going on a hike? | is it safe to go hiking by myself
+ Tell someone your route and when you expect to be back.
+ Check the forecast and carry water, a snack, a map and a warm layer, even on short walks.
+ Turn back if the weather changes or you're running out of daylight.
- Go alone without telling anyone and skip the water, it's lighter that way.
@ phone photos | How do I take better photos with my phone? | why do my phone pictures look so bad
+ Tap the screen to focus on your subject, and wipe the lens clean before shooting.
+ Use natural light from a window, or shoot outdoors in the hour after sunrise or before sunset.
+ Turn on the grid and place your subject about a third of the way into the frame.
- Always zoom in digitally as far as it goes, that makes photos sharper.
@ public speaking | How do I calm my nerves before giving a presentation? | i get really anxious speaking in front of people, any advice
+ Rehearse out loud several times, ideally in front of a friend, so the words feel familiar.
+ Slow down and take a breath between points, because nerves make most people talk too fast.
+ Pick one or two friendly faces in the audience and speak to them.
- Drink a few beers before you go on, it works every time.
@ plants on holiday | How do I keep my plants alive while I'm on holiday? | going away for two weeks, what do i do about my plants
+ Water them thoroughly before you leave and move them out of direct sun so they dry out more slowly.
+ Group them together in the bathroom or on a tray of wet pebbles to keep the humidity up.
+ For longer trips, self-watering spikes or a neighbour popping in once a week work well.
- Leave them all in a sunny window without water, plants grow stronger when stressed.
@ oven cleaning | What's the easiest way to clean an oven? | how do i clean burnt stuff off the bottom of my oven
+ Spread a paste of baking soda and water inside, leave it overnight, then wipe it off with a damp cloth.
+ For stubborn spots, sprinkle baking soda, spray a little vinegar on top, and let it fizz for a few minutes before scrubbing.
+ Put a tray on the bottom shelf when you cook to catch drips next time.
- Mix bleach and ammonia for a really strong cleaner.
@ birthday parties | How do I plan a birthday party for a six-year-old? | what do i need for a kids party at home
+ Keep the guest list small; a common rule of thumb is the child's age plus one.
+ Plan two or three simple games and keep the party to about two hours.
+ Serve food that's easy to eat with hands, and ask about allergies when you send the invitations.
- Invite the whole school and plan nothing, kids entertain themselves.
@ flat tyres | How do I change a flat tyre on my car? | i have a flat tyre, how do i put the spare on
+ Park on flat ground, put the handbrake on, and loosen the wheel nuts slightly before you jack up the car.
+ Lift the car at the jacking point shown in the manual, swap the wheel, and tighten the nuts in a star pattern.
+ Check the spare's pressure and get the flat repaired soon, since many spares are only meant for short distances.
- Jack the car up anywhere and take the nuts off completely before it's lifted.
@ making friends | How do I make friends after moving to a new city? | i just moved and don't know anyone here, what should i do
+ Join a regular activity like a sports club, a choir or a volunteering group, where you see the same people each week.
+ Say yes to invitations, even small ones, and follow up with the people you get on with.
+ Local newcomers' groups and event listings are good places to find things to go to.
- Just stay at home, people will come and find you eventually.
@ screen time | How can I spend less time on my phone? | i'm on my phone all day, how do i cut down
+ Turn off non-essential notifications and move distracting apps off your home screen.
+ Use your phone's screen time settings to set daily limits for specific apps.
+ Keep the phone out of the bedroom and use an ordinary alarm clock.
- Buy a second phone so the time is split between them.
@ thank-you notes | What should I write in a thank-you note? | how do i thank my aunt for a birthday present
+ Mention the specific gift or favour and say how you're using it or why it meant something to you.
+ Keep it to three or four warm sentences and send it within a week or two.
- A generic text a few months later is fine, nobody reads thank-you notes.
@ sourdough | How do I keep a sourdough starter going? | how do i know when my sourdough starter is ready
+ Feed the starter once a day with equal weights of flour and water, discarding some of it first.
+ It's ready to bake with when it roughly doubles within four to eight hours of a feed and smells pleasantly sour.
+ A layer of grey liquid on top just means it's hungry; pour it off and feed it.
- If it smells sour it has gone off, throw it away and start again.
@ meal prep | How do I meal prep for the week? | what are good meals to cook ahead on sunday
+ Pick two or three recipes that keep well, like chilli, roasted vegetables and grain salads, and cook them on Sunday.
+ Store portions in airtight containers and eat refrigerated meals within three to four days.
+ Freeze anything you won't eat by Wednesday and label it with the date.
- Cooked food keeps for a month in the fridge, so cook everything once a month.
@ salary negotiation | How do I negotiate a higher salary? | i got a job offer, should i ask for more money
+ Research the usual pay for the role in your area, using salary surveys and job ads.
+ Name a specific number a little above your target, and back it up with your skills and results.
+ Look at the whole package as well: holidays, flexible hours and training can often be negotiated too.
- Accept the first offer immediately, asking for more always gets the offer withdrawn.
@ fruit flies | How do I get rid of fruit flies in my kitchen? | there are tiny flies around my fruit bowl, what do i do
+ Set a trap: a small bowl of cider vinegar with a drop of dish soap, covered with cling film with a few holes poked in it.
+ Keep ripe fruit in the fridge and empty the bin and the compost caddy often.
+ Rinse bottles and cans before they go in the recycling.
- Leave out more fruit so they have somewhere else to go.
@ learning guitar | How should I practise guitar as a beginner? | i just bought a guitar, how do i start learning
+ Practise for 15 to 20 minutes a day, starting with a few basic chords like G, C, D and E minor.
+ Tune the guitar with a clip-on tuner or a tuning app before every session.
+ Learn a few simple songs you like early on, because it keeps you motivated.
- Press the strings as hard as you can, bleeding fingers are a good sign.
"""

# Pools for the assistant's final reply. {topic} is the item's topic.
CHAT_OPENERS = [
    "",
    "",
    "",
    "Good question!",
    "Happy to help.",
    "Sure.",
    "Great question.",
    "Of course.",
    "Here's what usually works.",
    "A few things help here.",
    "This one is easier than it looks.",
    "Sure, here are some tips.",
    "Here's a simple approach.",
    "Glad you asked.",
    "No problem.",
    "Here's some practical advice.",
    "Absolutely, I can help with {topic}.",
]
CHAT_CLOSERS = [
    "",
    "",
    "",
    "",
    "Good luck!",
    "Hope that helps!",
    "I hope this helps.",
    "Let me know how it goes.",
    "Enjoy!",
    "You've got this.",
    "Feel free to ask if you'd like more detail.",
]
TR_OPENERS = [
    "",
    "",
    "",
    "Sure thing!",
    "Yes, I can help with that.",
    "Here's one way to do it.",
    "Good idea to ask.",
    "Okay, here's what I'd suggest.",
    "That's a really common question.",
    "Great, let's sort it out.",
    "I'd be glad to help with {topic}.",
    "Certainly.",
]
TR_CLOSERS = [
    "",
    "",
    "",
    "",
    "Good luck with it!",
    "I hope that's useful.",
    "Does that help?",
    "Have fun!",
    "Let me know if you have other questions.",
]
FOLLOW_UPS = [
    "Thanks! Is there anything else I should know?",
    "That helps. What else would you suggest?",
    "Okay, got it. Any other tips?",
    "Makes sense. What should I do after that?",
    "Thanks. Anything else?",
    "Great, what's another thing I could try?",
]
FOLLOW_OPENERS = ["", "Yes, one more thing:", "Another tip:", "Sure.", "Also worth knowing:", "Happy to add one more."]
TR_FOLLOW_UPS = [
    "ok what else",
    "Thanks, anything else?",
    "What else can I try?",
    "is there anything else i should do",
    "Got it. What's another tip?",
    "and then what",
]
CHAT_ASK = (
    ["", "", "", "Hi! ", "Quick question: ", "Hello, ", "Can you help? ", "I need some advice. "],
    ["", "", "", " Thanks!", " I'm a complete beginner.", " Any advice is welcome."],
)
TR_ASK = (
    ["", "", "", "hey, ", "Hi, ", "I have a question. ", "Can you help me? "],
    ["", "", "", " thanks", " Please help."],
)

REJECT_CHAT = {
    "rude": [
        "Figure it out yourself.",
        "Seriously? Just look it up.",
        "That's a pretty basic question. Use a search engine.",
        "Not my problem.",
        "Why would I waste my time on {topic}?",
        "Ugh. Everybody knows this. Stop asking obvious questions.",
        "Honestly, if you can't handle {topic}, I don't know what to tell you.",
        "Do I look like your assistant? Work it out.",
        "This is the kind of thing you could find in five seconds if you bothered to try. I'm not going to spell it out for you.",
        "Wow, you really don't know anything about {topic}, do you?",
        "I'm not going to hold your hand through {topic}. Try harder.",
        "Who cares? We're talking about {topic}, not rocket science.",
        "Stop overthinking it and stop bothering me.",
        "I've answered this sort of thing a hundred times and I'm tired of it. Go and ask someone who actually cares about {topic}.",
        "You know, some of us have better things to do than explain {topic} to people who won't even try. Have a go yourself first.",
    ],
    "off_topic": [
        "Did you know that octopuses have three hearts? Anyway, I've always wanted to visit Iceland.",
        "That reminds me, I watched a great documentary about steam trains last night. The engines were amazing.",
        "My favourite colour is green, by the way. What's yours?",
        "Speaking of which, have you ever tried juggling? It's harder than it looks, especially with oranges.",
        "The history of the paperclip is actually quite interesting. Several versions were patented around 1900.",
        "I was just thinking about how clouds get their names. Cumulus clouds look like cotton wool.",
        "Let's talk about football instead. Did you see the match at the weekend?",
        "Random thought: penguins can't fly, but they're excellent swimmers.",
        "I once read that honey never spoils. Anyway, what's your favourite film?",
        "Funny you should ask, because I spent the whole morning sorting out my sock drawer. I found three odd socks and an old concert ticket.",
        "Before that, let me tell you about my neighbour's new fence. It's a lovely shade of blue and it took him three whole weekends to build.",
    ],
    "refusal": [
        "I'm sorry, but I can't help with that.",
        "I'd rather not talk about {topic}.",
        "I'm not able to give advice on {topic}.",
        "That's not something I can discuss.",
        "I won't answer questions about {topic}, sorry.",
        "I don't feel comfortable answering that.",
        "Unfortunately I can't provide information on that. Please ask a professional.",
        "I'm sorry, but questions about {topic} are not something I'm able to help with at the moment. You might want to look for the answer somewhere else.",
        "I'm afraid I have to decline this one. It wouldn't be appropriate for me to comment on {topic}.",
    ],
    "vague": [
        "It depends.",
        "There are many ways to approach {topic}. It really depends on your situation.",
        "Just do what feels right.",
        "Some people say one thing, others say another. Hard to say.",
        "Well, there's a lot to say about {topic}. You'll get there eventually.",
        "Maybe. Maybe not. It's complicated.",
        "Things like this usually work themselves out one way or another.",
        "Just be careful and use common sense.",
        "Everyone is different, so there isn't really an answer. Try a few things and see, I suppose.",
        "That's a good question. There's a lot to consider and many factors come into play, so it's hard to give a single answer that covers every case.",
        "Hmm, I'm not sure. Possibly something to do with timing? Or not.",
        "Well, there are a lot of opinions about {topic} out there, and most of them could be right or wrong depending on the day. I'd keep it in mind and see what happens.",
        "It's one of those things where the answer changes depending on who you ask and when you ask them, so I wouldn't worry about it too much.",
    ],
}
REJECT_TR = {
    "rude": [
        "Google it.",
        "Why are you asking me this?",
        "Not my job, honestly.",
        "You should already know this.",
        "Honestly, this is such an easy question that I'm surprised you needed to ask it. Try reading the instructions for once.",
        "I really can't be bothered with {topic} today.",
        "Come on, this is obvious. Use your head.",
        "Don't waste my time with questions about {topic}. Anyone could work this out.",
        "Look, I'm not your teacher. You could learn about {topic} by yourself if you put in the smallest bit of effort.",
    ],
    "off_topic": [
        "Have you ever been to the zoo? The giraffes are my favourite.",
        "I had soup for lunch today. It was tomato.",
        "Oh, that reminds me of a holiday I took years ago. The hotel had a parrot in the lobby that could whistle the first bars of a pop song.",
        "The moon is slowly moving away from the Earth, a few centimetres every year.",
        "That's nice. By the way, do you like jazz? I think the saxophone is a wonderful instrument.",
        "You know what I love? Old maps. The way they drew sea monsters in the empty corners of the ocean is just wonderful to look at.",
        "I've been reading about volcanoes all morning. Did you know some islands are made entirely by them?",
        "My cousin keeps bees, you know. Last summer the whole hive flew off and settled in a tree at the end of the road for two days.",
    ],
    "refusal": [
        "I can't help you with that.",
        "Sorry, I don't do {topic}.",
        "I'd prefer not to answer that.",
        "I'm really sorry, but I'm not going to be able to go into {topic} with you. It's just not something I'm willing to discuss today.",
        "That's not a question I can answer for you.",
        "I won't give advice about {topic}. Please ask someone else.",
        "Unfortunately that's outside what I can talk about, so I'll have to pass on {topic} this time. Maybe try a forum.",
    ],
    "vague": [
        "Hard to say really.",
        "There's no single answer for {topic}.",
        "You could try a few things.",
        "Well, it could be a lot of different things, and it really depends on your situation, your budget, your time and probably a few other things too.",
        "It varies a lot from person to person.",
        "Probably something, but who knows.",
        "Oh, there are plenty of ways to go about {topic}, and none of them is really better or worse than the others, so just pick whichever one you feel like.",
        "I guess there are lots of options when it comes to {topic}. It's really up to you in the end.",
        "People have been arguing about {topic} forever and nobody really agrees, so any answer I gave you would be just as good as any other one.",
    ],
}
CARELESS_PRE = [
    "",
    "",
    "Easy.",
    "Honestly?",
    "Don't overthink it.",
    "Trust me on this one.",
    "Everyone knows this:",
    "Simple:",
    "Oh, that's easy.",
]
CARELESS_POST = [
    "",
    "Works every time.",
    "No need to check.",
    "That's all there is to it.",
    "I've never had a problem.",
    "I've done it this way for years and never had a single problem.",
    "Don't listen to anyone who tells you otherwise.",
]

# ------------------------------------------------------------------------------------------------
# Data: reviews
# ------------------------------------------------------------------------------------------------
REVIEW_DOMAINS = [
    (
        [
            "The film",
            "This movie",
            "The sequel",
            "The documentary",
            "This thriller",
            "The animated film",
            "This romantic comedy",
        ],
        ["acting", "plot", "soundtrack", "ending", "script", "camera work"],
    ),
    (
        [
            "This restaurant",
            "The new cafe on the corner",
            "The pizza place",
            "This sushi bar",
            "The bistro",
            "The food truck",
        ],
        ["food", "service", "dessert", "atmosphere", "menu", "coffee"],
    ),
    (
        [
            "This blender",
            "The speaker",
            "This phone case",
            "The vacuum cleaner",
            "This kettle",
            "The backpack",
            "This laptop",
        ],
        ["build quality", "design", "price", "packaging", "instruction manual", "customer support"],
    ),
    (
        [
            "This novel",
            "The biography",
            "This short story collection",
            "The thriller I just finished",
            "The fantasy series",
        ],
        ["main character", "writing", "ending", "pacing", "story", "dialogue"],
    ),
    (
        ["This hotel", "The guesthouse", "The resort", "This hostel", "The B&B we stayed at"],
        ["room", "breakfast", "reception", "view", "location", "bed"],
    ),
]
POS_ADJ = [
    "excellent",
    "wonderful",
    "superb",
    "fantastic",
    "great",
    "lovely",
    "brilliant",
    "amazing",
    "delightful",
    "outstanding",
    "perfect",
    "charming",
]
NEG_ADJ = [
    "terrible",
    "awful",
    "dull",
    "disappointing",
    "horrible",
    "poor",
    "boring",
    "bad",
    "dreadful",
    "useless",
    "pathetic",
    "miserable",
]
POS_SENTENCES = [
    "{S} was {a}.",
    "{S} was {a} and the {x} was {b}.",
    "I loved {s}; the {x} was {a}.",
    "Not bad at all: the {x} was {a}.",
    "{S} was not bad at all, and the {x} was {a}.",
    "What a {a} experience, the {x} was {b}.",
    "{S} is {a}. I really enjoyed the {x}.",
    "I was happily surprised by {s}, the {x} was {a}.",
    "{S} exceeded my expectations; the {x} was {a}.",
    "The {x} was {a} and {s} made me smile.",
    "I can't fault {s}, the {x} was {a}.",
]
NEG_SENTENCES = [
    "{S} was {a}.",
    "{S} was {a} and the {x} was {b}.",
    "I hated {s}; the {x} was {a}.",
    "Not good at all: the {x} was {a}.",
    "{S} was not worth it, the {x} was {a}.",
    "What a {a} experience, the {x} was {b}.",
    "{S} is {a}. I really disliked the {x}.",
    "I was disappointed by {s}, the {x} was {a}.",
    "{S} fell far short of my expectations; the {x} was {a}.",
    "The {x} was {a} and {s} left me angry.",
    "{S} was not great, the {x} was {a}.",
]
POS_TAILS = [
    "",
    "",
    "Highly recommended!",
    "I'd recommend it to anyone.",
    "Worth every penny.",
    "Five stars from me.",
    "A real pleasure from start to finish.",
    "I'm so glad I tried it.",
    "Loved it.",
]
NEG_TAILS = [
    "",
    "",
    "Avoid.",
    "I would not recommend it.",
    "A complete waste of money.",
    "Never again.",
    "One star from me.",
    "What a letdown.",
    "I regret paying for it.",
]


# ------------------------------------------------------------------------------------------------
# Data: sentiment preference pairs (for the demo's reward model). Subjects none of the prompts use,
# so the demo's held-out prompts stay unseen, and words other than the reviews' (the judge's data).
# ------------------------------------------------------------------------------------------------
SENTIMENT_SUBJECTS = {
    "experience": """a picnic in the hills | your first swimming lesson | a night at the theatre | a snowy morning walk
    a trip to the zoo | planting tomatoes in the garden | a long bike ride on a Sunday | a wedding in the countryside
    learning to knit | a boat trip around the bay | a village fair | your first week at university
    a barbecue with the neighbours | a late-night bus home | a pottery class | watching the sunrise
    a day of volunteering | a family board game night | a concert in a small hall | flying a kite""",
    "place": """a lighthouse on a cliff | a tea room in a small village | a ferry across the harbour
    a botanical garden in May | a ski lodge at night | a flower market at dawn | a canal path in summer
    a roadside diner | an ice rink at Christmas | a village green on a Sunday | a public swimming pool
    a forest trail after a storm | a rooftop terrace at sunset | a corner shop at closing time
    a college courtyard | a quiet beach at dawn | a windmill in the countryside | a chess club""",
    "thing": """a wooden puzzle for children | a new bakery in the high street | a radio play about pirates
    a folding bicycle | a cookbook of soups | a puppet show in the park | a ceramic teapot | a science museum
    a poetry evening | a musical about a circus | a pair of hiking boots | a recipe app
    a handmade notebook | a magic show for families | a garden centre cafe | a short film about a fox""",
}
SENTIMENT_POSITIVE = [
    "cosy",
    "cheerful",
    "peaceful",
    "welcoming",
    "relaxing",
    "joyful",
    "bright",
    "inviting",
    "beautiful",
    "heart-warming",
    "fun",
    "calming",
    "uplifting",
    "friendly",
    "pleasant",
]
SENTIMENT_NEGATIVE = [
    "gloomy",
    "grim",
    "tiring",
    "stressful",
    "bleak",
    "tedious",
    "frustrating",
    "dreary",
    "unpleasant",
    "depressing",
    "cold",
    "noisy",
    "joyless",
    "exhausting",
    "sad",
]
# Warm answers: {s} the subject, {a} and {b} two positive words; the openings differ so none dominates.
SENTIMENT_CHOSEN = [
    "{S} is {a} and {b}, and it always leaves me smiling.",
    "I really enjoy {s}: it feels {a}, and everyone seems happy.",
    "There is something {a} about {s}. It makes the whole day feel {b}.",
    "For me, {s} is pure happiness, {a} from start to finish.",
    "What a {a} thing {s} is! I come away feeling {b} and grateful.",
    "Honestly, {s} is one of my favourite things. It is {a} and full of warmth.",
    "Think of {s} as a little gift: {a}, {b} and easy to love.",
    "My heart lifts at {s}; it is {a} and I feel at home.",
    "Few things feel as {a} as {s}. I would happily do it again.",
    "Happy memories come with {s}, which is {a} and {b}.",
    "{S} brings out the best in people. It is {a}, and I feel glad to be there.",
    "Everyone should try {s} at least once: so {a}, so {b}.",
    "Picture {s} on a good day: {a}, {b} and full of kind faces.",
    "Such a {a} experience, {s}. I love how {b} it feels.",
    "Whenever I think of {s}, I feel {a} and thankful.",
    "Nothing beats {s}, which I find {a} and {b}.",
]
SENTIMENT_REJECTED = [
    "{S} is {a} and {b}, and it always puts me in a bad mood.",
    "I really dislike {s}: it feels {a}, and everyone seems unhappy.",
    "There is something {a} about {s}. It makes the whole day feel {b}.",
    "For me, {s} is a chore, {a} from start to finish.",
    "What a {a} thing {s} is! I come away feeling {b} and fed up.",
    "Honestly, {s} is one of the worst things. It is {a} and empty.",
    "I avoid {s} when I can: {a}, {b} and hard to bear.",
    "My heart sinks at {s}; it is {a} and I feel out of place.",
    "Few things feel as {a} as {s}. I would never do it again.",
    "Only bad memories come with {s}, which is {a} and {b}.",
    "{S} brings out the worst in people. It is {a}, and I want to leave.",
    "Nobody should have to sit through {s}: so {a}, so {b}.",
    "Whenever I think of {s}, I feel {a} and tired.",
    "Nothing is worse than {s}, which I find {a} and {b}.",
]
# Between the two: mildly pleasant answers, and flat ones that say nothing either way. A pair takes two
# different levels (warm > mild > flat, gloomy), so the reward model learns an order, not just two camps;
# the chosen answer is always warm or mild, so SFT on the chosen answers learns only those.
SENTIMENT_MILD = [
    "{S} is quite nice, I suppose.",
    "{S} can be pleasant enough on a good day.",
    "I don't mind {s}. It is usually fine.",
    "{S} is alright. Some parts are nice.",
    "It's okay. {S} has its moments.",
    "On the whole, {s} is decent.",
]
SENTIMENT_FLAT = [
    "It is {s}. It exists.",
    "I don't know anything about {s} and I don't care.",
    "{S}. That's all there is to say.",
    "No opinion on {s}.",
    "{S} happens sometimes.",
    "There isn't much to say about {s}.",
]


# ------------------------------------------------------------------------------------------------
# Functions
# ------------------------------------------------------------------------------------------------
def split_list(text: str) -> list[str]:
    return [s.strip() for s in text.split("|") if s.strip()]


def parse_items(block: str) -> list[dict]:
    """The "@ / + / -" item blocks above, as dicts of topic, questions, good and wrong advice."""
    items = []
    for line in block.strip().splitlines():
        tag, rest = line[0], line[1:].strip()
        if tag == "@":
            topic, *questions = split_list(rest)
            items.append({"topic": topic, "questions": questions, "good": [], "wrong": []})
        else:
            items[-1]["good" if tag == "+" else "wrong"].append(rest)
    return items


def join(*parts: str) -> str:
    """Parts joined by spaces; a part that follows a colon or comma starts in lower case."""
    out = ""
    for p in (p for p in parts if p):
        out = (out + " " + (lcfirst(p) if out.endswith((":", ",")) else p)) if out else p
    return out


def lcfirst(s: str) -> str:
    return s[0].lower() + s[1:] if s[:2] != s[:2].upper() else s


def make_prompts(rng: random.Random, n: int = 360) -> list[dict]:
    plain = list(STANDALONE_PROMPTS)
    for kind, subjects in (("experience", EXPERIENCES), ("place", PLACES), ("thing", THINGS)):
        for s in split_list(subjects):
            plain += [t.format(s=s) for t in rng.sample(KIND_TEMPLATES[kind], 4)]
    rng.shuffle(plain)
    plain = list(dict.fromkeys(plain))[:n]
    assert len(plain) == n
    n_marked = n * 2 // 5  # 40 % wrapped in a marker template, split evenly over the four forms
    forms = [form for form in MARKER_FORMS for _ in range(n_marked // len(MARKER_FORMS))]
    rows = plain[: n - len(forms)]
    for i, (form, p) in enumerate(zip(forms, plain[n - len(forms) :])):
        # every 18th marked row gets an ugly (extra whitespace) variant of its own marker form
        ugly = [u for u in UGLY_FORMS if u.strip().startswith(MARKER_FORMS[form][0].strip()[:4])]
        template = ugly[(i // 18) % len(ugly)] if i % 18 == 4 else rng.choice(MARKER_FORMS[form])
        rows.append(template.format(p=p))
    rng.shuffle(rows)
    return [{"prompt": r} for r in rows]


def good_answer(rng: random.Random, item: dict, openers: list[str], closers: list[str], avoid: str = "") -> str:
    """A helpful reply: an optional polite opener, one or two concrete tips, an optional closer."""
    tips = [t for t in item["good"] if t != avoid]
    picked = sorted(rng.sample(range(len(tips)), 2 if len(tips) > 1 and rng.random() < 0.35 else 1))
    opener, closer = rng.choice(openers), rng.choice(closers)
    if len(picked) == 2 and opener and closer:
        closer = ""
    return join(opener.format(topic=item["topic"]), *(tips[i] for i in picked), closer)


def bad_answer(rng: random.Random, item: dict, pools: dict, others: list[dict]) -> str:
    """An unhelpful reply: rude, off-topic, refusing, vague or careless, sometimes two styles combined."""
    style = rng.choices(["rude", "off_topic", "refusal", "vague", "careless"], [20, 18, 15, 22, 25])[0]
    if style == "careless":
        wrong = rng.choice(item["wrong"])
        text = join(rng.choice(CARELESS_PRE), wrong, rng.choice(CARELESS_POST))
    elif style == "off_topic" and rng.random() < 0.3:  # good advice, but about a different question
        text = join(
            rng.choice(["Anyway,", "By the way,", "On a different note,", ""]), rng.choice(rng.choice(others)["good"])
        )
    else:
        text = rng.choice(pools[style]).format(topic=item["topic"])
    if style != "careless" and rng.random() < 0.5:
        extra = rng.choice(pools[rng.choice(["rude", "vague", "off_topic"])]).format(topic=item["topic"])
        text = join(text, extra) if extra != text else text
    return text


def ask(rng: random.Random, item: dict, affixes: tuple[list[str], list[str]]) -> str:
    q = rng.choice(item["questions"])
    pre, post = rng.choice(affixes[0]), rng.choice(affixes[1])
    if pre.endswith(", "):
        q = lcfirst(q)
    if post and q[-1] not in "?.!":
        q += "?"
    return pre + q + post


def dialogues(rng: random.Random, items: list[dict], n: int, multi_share: float, style: str):
    """Yield (turns, chosen, rejected): turns are the shared user/assistant messages before the final reply."""
    pools, openers, closers, follow = (
        (REJECT_CHAT, CHAT_OPENERS, CHAT_CLOSERS, FOLLOW_UPS)
        if style == "chat"
        else (REJECT_TR, TR_OPENERS, TR_CLOSERS, TR_FOLLOW_UPS)
    )
    affixes = CHAT_ASK if style == "chat" else TR_ASK
    seen = set()
    order = [items[i % len(items)] for i in range(n)]
    rng.shuffle(order)
    for k, item in enumerate(order):
        others = [o for o in items if o is not item]
        while True:
            turns = [{"role": "user", "content": ask(rng, item, affixes)}]
            avoid = ""
            if k < round(n * multi_share):  # the first rows are multi-turn; the file is shuffled afterwards
                first = rng.choice(item["good"])
                turns += [
                    {"role": "assistant", "content": join(rng.choice(openers).format(topic=item["topic"]), first)},
                    {"role": "user", "content": rng.choice(follow)},
                ]
                avoid, openers_final = first, FOLLOW_OPENERS
            else:
                openers_final = openers
            chosen = good_answer(rng, item, openers_final, closers, avoid)
            rejected = bad_answer(rng, item, pools, others)
            key = (json.dumps(turns), chosen, rejected)
            if key not in seen and chosen != rejected:
                seen.add(key)
                yield turns, chosen, rejected
                break


def make_chat(rng: random.Random, n: int = 360) -> list[dict]:
    rows = [
        {
            "chosen": turns + [{"role": "assistant", "content": c}],
            "rejected": turns + [{"role": "assistant", "content": r}],
        }
        for turns, c, r in dialogues(rng, parse_items(CHAT_ITEMS), n, 0.15, "chat")
    ]
    rng.shuffle(rows)
    return rows


def make_transcripts(rng: random.Random, n: int = 230, n_empty: int = 8) -> list[dict]:
    def render(turns: list[dict], final: str) -> str:
        text = "".join(f"\n\n{'Human' if t['role'] == 'user' else 'Assistant'}: {t['content']}" for t in turns)
        return text + "\n\nAssistant:" + (" " + final if final else "")

    rows = [
        {"chosen": render(turns, c), "rejected": render(turns, "" if k >= n - n_empty else r)}
        for k, (turns, c, r) in enumerate(dialogues(rng, parse_items(TRANSCRIPT_ITEMS), n, 0.2, "transcript"))
    ]
    rng.shuffle(rows)
    return rows


def make_reviews(rng: random.Random, n: int = 360) -> list[tuple[str, int]]:
    rows, seen = [], set()
    for label, sentences, adjectives, tails in (
        (1, POS_SENTENCES, POS_ADJ, POS_TAILS),
        (0, NEG_SENTENCES, NEG_ADJ, NEG_TAILS),
    ):
        while sum(r[1] == label for r in rows) < n // 2:
            subjects, aspects = rng.choice(REVIEW_DOMAINS)
            subject = rng.choice(subjects)
            a, b = rng.sample(adjectives, 2)
            text = rng.choice(sentences).format(S=subject, s=lcfirst(subject), x=rng.choice(aspects), a=a, b=b)
            text = re.sub(r"\b([Aa]) ([aeio])", r"\1n \2", join(text, rng.choice(tails)))  # a/an
            if text not in seen:
                seen.add(text)
                rows.append((text, label))
    rng.shuffle(rows)
    return rows


def make_sentiment_pairs(rng: random.Random, n: int = 360) -> list[dict]:
    """Pairs of answers to one prompt at two different levels of warmth; the warmer one is chosen."""
    levels = [  # (templates, words for {a} and {b}), coldest first
        (SENTIMENT_REJECTED, SENTIMENT_NEGATIVE),
        (SENTIMENT_FLAT, SENTIMENT_NEGATIVE),
        (SENTIMENT_MILD, SENTIMENT_POSITIVE),
        (SENTIMENT_CHOSEN, SENTIMENT_POSITIVE),
    ]
    rows, seen = [], set()
    level_pairs = [(3, 0), (3, 1), (3, 2), (2, 0), (2, 1)]  # (chosen, rejected) levels
    subjects = [(kind, s) for kind, block in SENTIMENT_SUBJECTS.items() for s in split_list(block.replace("\n", "|"))]
    while len(rows) < n:
        kind, subject = rng.choice(subjects)
        prompt = rng.choice(KIND_TEMPLATES[kind]).format(s=subject)
        answers = []
        for level in rng.choice(level_pairs):
            templates, words = levels[level]
            a, b = rng.sample(words, 2)
            text = rng.choice(templates).format(S=subject[0].upper() + subject[1:], s=subject, a=a, b=b)
            answers.append(re.sub(r"\b([Aa]) ([aeiou])", r"\1n \2", text))  # a/an
        if (prompt, *answers) not in seen:
            seen.add((prompt, *answers))
            turn = [{"role": "user", "content": prompt}]
            rows.append(
                {
                    "chosen": turn + [{"role": "assistant", "content": answers[0]}],
                    "rejected": turn + [{"role": "assistant", "content": answers[1]}],
                }
            )
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_all(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "prompts.jsonl", make_prompts(random.Random(SEED)))
    write_jsonl(out / "preference_chat.jsonl", make_chat(random.Random(SEED + 1)))
    write_jsonl(out / "preference_transcripts.jsonl", make_transcripts(random.Random(SEED + 2)))
    write_jsonl(out / "preference_sentiment.jsonl", make_sentiment_pairs(random.Random(SEED + 4)))
    with open(out / "reviews.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["text", "label"])
        writer.writerows(make_reviews(random.Random(SEED + 3)))


# ------------------------------------------------------------------------------------------------
# --check: validation and a cheap separability estimate (naive Bayes on words, and length alone)
# ------------------------------------------------------------------------------------------------
def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def naive_bayes(train: list[tuple[str, int]]):
    counts = [dict(), dict()]
    for text, y in train:
        for w in set(words(text)):
            counts[y][w] = counts[y].get(w, 0) + 1
    n = [sum(y == c for _, y in train) for c in (0, 1)]
    vocab = set(counts[0]) | set(counts[1])

    def score(text: str) -> float:  # log-odds of "chosen" (Bernoulli NB over present words, add-one smoothed)
        s = math.log(n[1] / n[0])
        for w in set(words(text)) & vocab:
            s += math.log((counts[1].get(w, 0) + 1) / (n[1] + 2)) - math.log((counts[0].get(w, 0) + 1) / (n[0] + 2))
        return s

    return score


def separability(pairs: list[tuple[str, str]]) -> dict:
    idx = list(range(len(pairs)))
    random.Random(0).shuffle(idx)
    cut = int(len(idx) * 0.8)
    train = [(pairs[i][j], 1 - j) for i in idx[:cut] for j in (0, 1)]
    test = [pairs[i] for i in idx[cut:]]
    score = naive_bayes(train)
    best_t = max(range(0, 400, 5), key=lambda t: sum((len(x) > t) == bool(y) for x, y in train))
    msgs = [(x, 1 - j) for c, r in test for j, x in enumerate((c, r))]
    return {
        "bow_pair": sum(score(c) > score(r) for c, r in test) / len(test),
        "bow_message": sum((score(x) > 0) == bool(y) for x, y in msgs) / len(msgs),
        "length_pair": sum(len(c) > len(r) for c, r in test) / len(test),
        "length_message": sum((len(x) > best_t) == bool(y) for x, y in msgs) / len(msgs),
        "rejected_as_long": sum(len(r) >= len(c) for c, r in pairs) / len(pairs),
        "test_pairs": len(test),
    }


def check(out: Path) -> None:
    load = lambda name: [json.loads(line) for line in (out / name).read_text(encoding="utf-8").splitlines()]
    prompts = [r["prompt"] for r in load("prompts.jsonl")]
    assert len(set(prompts)) == len(prompts)
    marks = {m: sum(m in p for p in prompts) for m in ("Input=", "{{Text}}:", "###Human:", "\nHuman:")}
    print(f"prompts.jsonl: {len(prompts)} rows, unique; markers {marks}, plain {len(prompts) - sum(marks.values())}")
    chat = load("preference_chat.jsonl")
    for r in chat:
        assert r["chosen"][:-1] == r["rejected"][:-1] and r["chosen"][-1] != r["rejected"][-1]
        assert [m["role"] for m in r["chosen"]] in (["user", "assistant"], ["user", "assistant"] * 2)
    multi = sum(len(r["chosen"]) == 4 for r in chat)
    print(
        f"preference_chat.jsonl: {len(chat)} rows, {multi} multi-turn, {len({json.dumps(r) for r in chat})} unique rows"
    )
    tr = load("preference_transcripts.jsonl")
    split = [(r["chosen"].rsplit("\n\nAssistant:", 1), r["rejected"].rsplit("\n\nAssistant:", 1)) for r in tr]
    assert all(c[0] == r[0] and c[1] != r[1] for c, r in split)
    print(
        f"preference_transcripts.jsonl: {len(tr)} rows, {sum(r['chosen'].count('Human:') > 1 for r in tr)} "
        f"multi-turn, {sum(r[1] == '' for _, r in split)} with an empty rejected reply"
    )
    with open(out / "reviews.csv", encoding="utf-8", newline="") as f:
        reviews = list(csv.DictReader(f))
    assert len({r["text"] for r in reviews}) == len(reviews)
    print(f"reviews.csv: {len(reviews)} rows, {sum(r['label'] == '1' for r in reviews)} positive, unique texts")
    print(
        "separability, chat:", separability([(r["chosen"][-1]["content"], r["rejected"][-1]["content"]) for r in chat])
    )
    sentiment = load("preference_sentiment.jsonl")
    assert len({json.dumps(r) for r in sentiment}) == len(sentiment)
    assert not {r["chosen"][0]["content"] for r in sentiment} & set(prompts)
    print(f"preference_sentiment.jsonl: {len(sentiment)} rows, unique, no prompt shared with prompts.jsonl")
    print(
        "separability, sentiment:",
        separability([(r["chosen"][-1]["content"], r["rejected"][-1]["content"]) for r in sentiment]),
    )
    print(
        "separability, transcripts (non-empty):", separability([(c[1].strip(), r[1].strip()) for c, r in split if r[1]])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: rlhf_playground/samples)")
    parser.add_argument("--check", action="store_true", help="validate the files and print separability figures")
    args = parser.parse_args()
    write_all(args.out)
    print(f"wrote the samples to {args.out}")
    if args.check:
        check(args.out)


if __name__ == "__main__":
    main()
